import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Synchronization

/// Forwards to an in-memory store; each broken store overrides the operations it breaks.
protocol ForwardingStore: ForwardingBookingStore {
    /// The in-memory store underneath, whose operations the doubles call without `try`.
    var memory: InMemoryStore { get }
}

extension ForwardingStore {
    var inner: any BookingStore { memory }

    /// The occupants of `slot` itself (its seats, booked or held), read in a step of their own: what the read-then-write
    /// stores below decide on before they write.
    func occupantsOfSlot(_ slot: TimeSlot, occupied: TimeSlot, of resource: ResourceID, at now: Date) async
        -> [SlotOccupant]
    {
        await memory.occupants(resource: resource, overlapping: occupied, now: now).filter { $0.slot == slot }
    }

    /// `notifications` paired with their appointments as read now: the claim with appointments of a double whose
    /// `claimNotifications(_:)` is what it changes, so the dispatcher meets that change too.
    func pairedWithAppointments(_ notifications: [BookingNotification]) async -> [ClaimedNotification] {
        var claimed: [ClaimedNotification] = []
        for notification in notifications {
            let appointment = await memory.record(id: notification.appointmentID)
            claimed.append(ClaimedNotification(notification: notification, appointment: appointment))
        }
        return claimed
    }
}

/// Forgets the overlap check: books every insert under a resource of its own.
final class OverlapBlindStore: ForwardingStore {
    let memory = InMemoryStore()
    private let counter = Atomic<Int>(0)

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        var disguised = appointment
        disguised.resource = try ResourceID.parse("blind-\(counter.add(1, ordering: .relaxed).newValue)")
        return try await memory.insert(disguised)
    }
}

/// Ignores leases: what it claims stays claimable by others.
struct LeaseIgnoringStore: ForwardingStore {
    let memory = InMemoryStore()

    func claimNotifications(_ claim: NotificationClaim) async throws(BookingError) -> [BookingNotification] {
        let claimed = await memory.claimNotifications(claim)
        for notification in claimed {
            _ = await memory.finish(
                notification: notification.id, owner: claim.owner, outcome: .released(now: claim.now))
        }
        return claimed
    }

    func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
        -> [ClaimedNotification]
    {
        await pairedWithAppointments(try await claimNotifications(claim))
    }
}

/// Lets any worker finish any notification one at a time, whoever holds the lease (a batch stays guarded).
struct UnguardedFinishStore: ForwardingStore {
    let memory = InMemoryStore()

    func finish(notification id: Int64, owner: String, outcome: DeliveryOutcome) async throws(BookingError) -> Bool {
        let holder = await memory.notifications(appointmentID: nil).first { $0.id == id }?.leaseOwner
        return await memory.finish(notification: id, owner: holder ?? owner, outcome: outcome)
    }
}

/// Guards a single finish by its owner, but lets a batch of outcomes finish any notification, whoever holds
/// the lease.
struct UnguardedBatchFinishStore: ForwardingStore {
    let memory = InMemoryStore()

    func finish(outcomes: [Int64: DeliveryOutcome], owner: String) async throws(BookingError) -> Set<Int64> {
        var recorded: Set<Int64> = []
        for (id, outcome) in outcomes {
            let holder = await memory.notifications(appointmentID: nil).first { $0.id == id }?.leaseOwner
            if await memory.finish(notification: id, owner: holder ?? owner, outcome: outcome) { recorded.insert(id) }
        }
        return recorded
    }
}

/// Records a batch's retries without their error text.
struct RetryErrorDroppingStore: ForwardingStore {
    let memory = InMemoryStore()

    func finish(outcomes: [Int64: DeliveryOutcome], owner: String) async throws(BookingError) -> Set<Int64> {
        let kept = outcomes.mapValues { outcome -> DeliveryOutcome in
            guard case .retry(_, let next, let now) = outcome else { return outcome }
            return .retry(error: "", nextAttemptAt: next, now: now)
        }
        return try await memory.finish(outcomes: kept, owner: owner)
    }
}

/// Renews any pending notification's lease, whoever holds it.
struct UnguardedRenewalStore: ForwardingStore {
    let memory = InMemoryStore()

    func renewLeases(of ids: [Int64], owner: String, now: Date, leaseExpiresAt: Date) async throws(BookingError)
        -> Set<Int64>
    {
        var renewed: Set<Int64> = []
        for notification in await memory.notifications(appointmentID: nil) where ids.contains(notification.id) {
            guard let holder = notification.leaseOwner else { continue }
            renewed.formUnion(
                await memory.renewLeases(of: [notification.id], owner: holder, now: now, leaseExpiresAt: leaseExpiresAt)
            )
        }
        return renewed
    }
}

/// Releases leases the way a careless `LIKE 'worker%'` would: any owner starting with the worker id,
/// slash or not, in any ASCII case.
struct LookAlikeReleaseStore: ForwardingStore {
    let memory = InMemoryStore()

    func releaseLeases(ofWorker workerID: String, now: Date) async throws(BookingError) -> Set<Int64> {
        var released: Set<Int64> = []
        for notification in await memory.notifications(appointmentID: nil) {
            guard let owner = notification.leaseOwner, owner.lowercased().hasPrefix(workerID.lowercased()) else {
                continue
            }
            _ = await memory.finish(notification: notification.id, owner: owner, outcome: .released(now: now))
            released.insert(notification.id)
        }
        return released
    }
}

/// Stores leases only 5 s long, but tells the claimer the expiry it asked for.
struct ShortLeaseStore: ForwardingStore {
    let memory = InMemoryStore()

    func claimNotifications(_ claim: NotificationClaim) async throws(BookingError) -> [BookingNotification] {
        var short = claim
        short.leaseExpiresAt = claim.now.addingTimeInterval(5)
        return await memory.claimNotifications(short).map { notification in
            var told = notification
            told.leaseExpiresAt = claim.leaseExpiresAt
            return told
        }
    }

    func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
        -> [ClaimedNotification]
    {
        await pairedWithAppointments(try await claimNotifications(claim))
    }
}

/// Normalises text to NFC on the way in, as some databases and drivers do: `e` + U+0301 comes back as `é`.
struct NormalizingStore: ForwardingStore {
    let memory = InMemoryStore()

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        var normalized = appointment
        normalized.customerName = appointment.customerName.precomposedStringWithCanonicalMapping
        normalized.note = appointment.note?.precomposedStringWithCanonicalMapping
        return try await memory.insert(normalized)
    }
}

/// Takes any instant: what it cannot keep it swaps for one it can (now for the wall clock's, the occupied interval for
/// the slot), where a store must refuse it.
struct RangeBlindStore: ForwardingStore {
    let memory = InMemoryStore()

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        var kept = appointment
        if !TimeSlot.supportedInstants.contains(kept.now) { kept.now = Date() }
        if !TimeSlot.supportedInstants.contains(kept.occupied.end) { kept.occupied = kept.slot }
        return try await memory.insert(kept)
    }
}

/// A migration that is not idempotent: every `migrate()` after the first recreates the tables, empty.
final class RecreatingMigrationStore: ForwardingStore {
    private let current = Mutex(InMemoryStore())
    private let migrations = Atomic<Int>(0)

    var memory: InMemoryStore { current.withLock { $0 } }

    func migrate() async throws(BookingError) {
        if migrations.add(1, ordering: .relaxed).newValue > 1 { current.withLock { $0 = InMemoryStore() } }
    }
}

/// Moves an appointment the read-then-write way: cancels it, then books the new slot as a new
/// appointment. Not atomic (a refused booking leaves the old one cancelled) and not the same appointment.
struct CancelAndRebookStore: ForwardingStore {
    let memory = InMemoryStore()

    func reschedule(_ move: AppointmentMove) async throws(BookingError) -> RescheduleOutcome? {
        guard let record = await memory.record(id: move.appointmentID) else { return nil }
        let old = record.appointment
        _ = await memory.cancel(id: old.id, now: move.now)
        let rebooked = try await memory.insert(
            NewAppointment(
                resource: old.resource, slot: move.slot, occupied: move.occupied, customerName: old.customerName,
                customerEmail: old.customerEmail, note: old.note, cancelTokenHash: record.cancelTokenHash,
                idempotencyKey: nil, requestFingerprint: move.requestFingerprint, now: move.now))
        return .moved(rebooked.record.appointment)
    }
}

/// Forgets the reminders of a move: the old slot's pending ones end, the new slot gets none.
struct ReminderDroppingStore: ForwardingStore {
    let memory = InMemoryStore()

    func reschedule(_ move: AppointmentMove) async throws(BookingError) -> RescheduleOutcome? {
        var forgetful = move
        forgetful.reminders = []
        return try await memory.reschedule(forgetful)
    }
}

/// Ignores `onlyIfAlreadyThere`: a move the service meant only to confirm lands wherever it points.
struct StayingPutIgnoringStore: ForwardingStore {
    let memory = InMemoryStore()

    func reschedule(_ move: AppointmentMove) async throws(BookingError) -> RescheduleOutcome? {
        var unflagged = move
        unflagged.onlyIfAlreadyThere = false
        return try await memory.reschedule(unflagged)
    }
}

/// Counts seats the way schedulers that overbook do: reads the slot's occupants, then writes in another step.
struct ReadThenWriteSeatsStore: ForwardingStore {
    let memory = InMemoryStore()

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        let taken = await occupantsOfSlot(
            appointment.slot, occupied: appointment.occupied, of: appointment.resource, at: appointment.now)
        guard taken.count < appointment.rules.capacity else { throw .slotUnavailable }
        await Task.yield()
        var unchecked = appointment
        unchecked.rules.capacity = 10_000
        return try await memory.insert(unchecked)
    }
}

/// Forgets the day and week limits.
struct LimitBlindStore: ForwardingStore {
    let memory = InMemoryStore()

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        var unlimited = appointment
        unlimited.rules.periodLimits = []
        return try await memory.insert(unlimited)
    }
}

/// Treats holds as advisory: every hold is granted, and bookings never look at them.
struct AdvisoryHoldStore: ForwardingStore {
    let memory = InMemoryStore()

    func placeHold(_ hold: NewHold) async throws(BookingError) -> SlotHold {
        SlotHold(resource: hold.resource, slot: hold.slot, expiresAt: hold.expiresAt)
    }
}

/// Reads at most 128 occupants of a window, as a read that stopped at its first page of rows would.
struct FirstPageOccupantsStore: ForwardingStore {
    let memory = InMemoryStore()

    func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Date) async throws(BookingError)
        -> [SlotOccupant]
    {
        Array(await memory.occupants(resource: resource, overlapping: window, now: now).prefix(128))
    }
}

/// Forgets that one customer takes one seat of a slot: every booking looks like a new customer.
final class EmailBlindStore: ForwardingStore {
    let memory = InMemoryStore()
    private let counter = Atomic<Int>(0)

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        var disguised = appointment
        disguised.customerEmail = "customer-\(counter.add(1, ordering: .relaxed).newValue)@example.com"
        return try await memory.insert(disguised)
    }
}

/// Pairs each notification a claim with appointments leases with its appointment as it was booked (kept since
/// the insert), not as it is now: a cancel or a move after the booking never shows.
final class BookedSnapshotClaimStore: ForwardingStore {
    let memory = InMemoryStore()
    private let booked = Mutex<[Int64: AppointmentRecord]>([:])

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        let outcome = try await memory.insert(appointment)
        if case .created(let record) = outcome { booked.withLock { $0[record.appointment.id] = record } }
        return outcome
    }

    func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
        -> [ClaimedNotification]
    {
        let snapshots = booked.withLock { $0 }
        return await memory.claimNotifications(claim).map {
            ClaimedNotification(notification: $0, appointment: snapshots[$0.appointmentID])
        }
    }
}

/// A claim whose read of the appointments failed: every appointment comes back `nil`.
struct UnreadClaimStore: ForwardingStore {
    let memory = InMemoryStore()

    func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
        -> [ClaimedNotification]
    {
        await memory.claimNotifications(claim).map { ClaimedNotification(notification: $0, appointment: nil) }
    }
}

/// Tells every caller of a cancel that it made the transition, the repeated and concurrent ones too.
struct EveryCancelTransitionsStore: ForwardingStore {
    let memory = InMemoryStore()

    func cancel(id: Int64, now: Date) async throws(BookingError) -> CancelOutcome? {
        await memory.cancel(id: id, now: now).map { .cancelled($0.appointment) }
    }
}

/// Keys an idempotency key together with the request, as a unique index on (key, fingerprint) would: a reused key
/// with another request books a second appointment.
struct FingerprintScopedKeyStore: ForwardingStore {
    let memory = InMemoryStore()

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        if let key = appointment.idempotencyKey, let existing = await memory.record(idempotencyKey: key),
            existing.requestFingerprint != appointment.requestFingerprint
        {
            var unkeyed = appointment
            unkeyed.idempotencyKey = nil
            return try await memory.insert(unkeyed)
        }
        return try await memory.insert(appointment)
    }
}

/// Answers a reused key with the caller's own fingerprint, so the service takes every reuse for a retry.
struct FingerprintEchoStore: ForwardingStore {
    let memory = InMemoryStore()

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        let outcome = try await memory.insert(appointment)
        guard case .existing(let record) = outcome else { return outcome }
        var echoed = record
        echoed.requestFingerprint = appointment.requestFingerprint
        return .existing(echoed)
    }
}

/// Counts a move's seats and the day's bookings by reading, then moves in another step.
struct ReadThenWriteMovesStore: ForwardingStore {
    let memory = InMemoryStore()

    func reschedule(_ move: AppointmentMove) async throws(BookingError) -> RescheduleOutcome? {
        let seated = await occupantsOfSlot(move.slot, occupied: move.occupied, of: .default, at: move.now)
        guard seated.count < move.rules.capacity else { throw .slotUnavailable }
        for limit in move.rules.periodLimits {
            let counted = await memory.appointments().filter {
                $0.id != move.appointmentID && $0.status == .booked && limit.period.start <= $0.slot.start
                    && $0.slot.start < limit.period.end
            }
            guard counted.count < limit.limit else { throw .bookingLimitReached("day") }
        }
        await Task.yield()
        var unchecked = move
        unchecked.rules = BookingRules(capacity: 10_000)
        return try await memory.reschedule(unchecked)
    }
}

/// Counts a hold's seats by reading, then holds in another step.
struct ReadThenWriteHoldSeatsStore: ForwardingStore {
    let memory = InMemoryStore()

    func placeHold(_ hold: NewHold) async throws(BookingError) -> SlotHold {
        let taken = await occupantsOfSlot(hold.slot, occupied: hold.occupied, of: hold.resource, at: hold.now)
        guard taken.count < hold.rules.capacity else {
            throw .slotHeld(until: taken.compactMap(\.holdExpiresAt).min() ?? hold.expiresAt)
        }
        await Task.yield()
        var unchecked = hold
        unchecked.rules = BookingRules(capacity: 10_000)
        return try await memory.placeHold(unchecked)
    }
}

/// Uses a hold the way a read-then-write service would: checks that its slot is held, books without the token, then
/// releases the hold in another step.
struct ReadThenUseHoldStore: ForwardingStore {
    let memory = InMemoryStore()

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        guard let tokenHash = appointment.holdTokenHash else { return try await memory.insert(appointment) }
        let held = await occupantsOfSlot(
            appointment.slot, occupied: appointment.occupied, of: appointment.resource, at: appointment.now
        ).contains { $0.holdExpiresAt != nil }
        guard held else { throw .holdExpired }
        await Task.yield()
        var unheld = appointment
        unheld.holdTokenHash = nil
        unheld.rules.capacity = 10_000
        let outcome = try await memory.insert(unheld)
        _ = await memory.releaseHold(tokenHash: tokenHash, now: appointment.now)
        return outcome
    }
}

/// Places every hold on the default resource, whatever resource it names.
struct OneResourceHoldStore: ForwardingStore {
    let memory = InMemoryStore()

    func placeHold(_ hold: NewHold) async throws(BookingError) -> SlotHold {
        var moved = hold
        moved.resource = .default
        return try await memory.placeHold(moved)
    }
}

/// Lists appointments by slot start, then resource, instead of id.
struct ResourceOrderedListingStore: ForwardingStore {
    let memory = InMemoryStore()

    func appointments() async throws(BookingError) -> [Appointment] {
        await memory.appointments().sorted { ($0.slot.start, $0.resource) < ($1.slot.start, $1.resource) }
    }
}

/// Keeps every default of the protocol: the checks hold it to them (`appointments(of:startingFrom:)`,
/// `claimNotificationsWithAppointments(_:)` and `finish(outcomes:owner:)` among them). It forwards only the operations
/// the protocol requires, so it is no `ForwardingStore`, which forwards every one.
struct DefaultsOnlyStore: BookingStore {
    let memory = InMemoryStore()

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        try await memory.insert(appointment)
    }
    func cancel(id: Int64, now: Date) async throws(BookingError) -> CancelOutcome? {
        await memory.cancel(id: id, now: now)
    }
    func reschedule(_ move: AppointmentMove) async throws(BookingError) -> RescheduleOutcome? {
        try await memory.reschedule(move)
    }
    func rescheduleRecord(idempotencyKey: String) async throws(BookingError) -> RescheduleRecord? {
        await memory.rescheduleRecord(idempotencyKey: idempotencyKey)
    }
    func record(id: Int64) async throws(BookingError) -> AppointmentRecord? { await memory.record(id: id) }
    func record(idempotencyKey: String) async throws(BookingError) -> AppointmentRecord? {
        await memory.record(idempotencyKey: idempotencyKey)
    }
    func appointments() async throws(BookingError) -> [Appointment] { await memory.appointments() }
    func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Date) async throws(BookingError)
        -> [SlotOccupant]
    {
        await memory.occupants(resource: resource, overlapping: window, now: now)
    }
    func placeHold(_ hold: NewHold) async throws(BookingError) -> SlotHold { try await memory.placeHold(hold) }
    func releaseHold(tokenHash: String, now: Date) async throws(BookingError) -> Bool {
        await memory.releaseHold(tokenHash: tokenHash, now: now)
    }
    func claimNotifications(_ claim: NotificationClaim) async throws(BookingError) -> [BookingNotification] {
        await memory.claimNotifications(claim)
    }
    func finish(notification id: Int64, owner: String, outcome: DeliveryOutcome) async throws(BookingError) -> Bool {
        await memory.finish(notification: id, owner: owner, outcome: outcome)
    }
    func renewLeases(of ids: [Int64], owner: String, now: Date, leaseExpiresAt: Date) async throws(BookingError)
        -> Set<Int64>
    {
        await memory.renewLeases(of: ids, owner: owner, now: now, leaseExpiresAt: leaseExpiresAt)
    }
    func releaseLeases(ofWorker workerID: String, now: Date) async throws(BookingError) -> Set<Int64> {
        await memory.releaseLeases(ofWorker: workerID, now: now)
    }
    func retryFailedNotification(id: Int64, now: Date) async throws(BookingError) -> BookingNotification? {
        await memory.retryFailedNotification(id: id, now: now)
    }
    func notifications(appointmentID: Int64?) async throws(BookingError) -> [BookingNotification] {
        await memory.notifications(appointmentID: appointmentID)
    }
    func checkHealth() async throws(BookingError) {}
}

/// Lists a resource's appointments from the slots that end after the instant, not those that start from it.
struct EndingAfterListingStore: ForwardingStore {
    let memory = InMemoryStore()

    func appointments(of resource: ResourceID, startingFrom instant: Date) async throws(BookingError)
        -> [Appointment]
    {
        await memory.appointments().filter { $0.resource == resource && $0.slot.end > instant }
    }
}

/// Writes a booking's notification after its appointment, in a step of its own, as two autocommit statements
/// would: for a moment a reader finds the appointment without its notification.
final class NotificationLaterStore: ForwardingStore {
    let memory = InMemoryStore()
    /// The appointments whose notifications are not written yet, as far as readers can tell.
    private let unwritten = Mutex<Set<Int64>>([])

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        let outcome = try await memory.insert(appointment)
        guard case .created(let record) = outcome else { return outcome }
        unwritten.withLock { _ = $0.insert(record.appointment.id) }
        for _ in 0..<20 { await Task.yield() }
        unwritten.withLock { _ = $0.remove(record.appointment.id) }
        return outcome
    }

    func notifications(appointmentID: Int64?) async throws(BookingError) -> [BookingNotification] {
        let hidden = unwritten.withLock { $0 }
        return await memory.notifications(appointmentID: appointmentID).filter { !hidden.contains($0.appointmentID) }
    }
}
