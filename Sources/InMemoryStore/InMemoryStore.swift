public import BookingDomain
public import Foundation

/// A `BookingStore` held in memory by an actor: for tests, demos and embedded use.
///
/// It keeps every invariant the durable stores keep (the actor serializes each operation, so
/// a booking and its notification are written together), except durability: its data is gone
/// when the process ends.
///
/// ```swift
/// let service = BookingService(store: InMemoryStore())
/// ```
public actor InMemoryStore: BookingStore {
    private var records: [Int64: AppointmentRecord] = [:]
    private var bookedByResource: [ResourceID: BookedSlots] = [:]
    /// Holds by resource, then by token hash; lapsed ones are dropped by the operations that take a slot.
    private var holds: [ResourceID: [String: StoredHold]] = [:]
    /// The soonest expiry among `holds`: until then, nothing has lapsed and nothing is scanned.
    private var soonestHoldExpiry: Date?
    private var idsByIdempotencyKey: [String: Int64] = [:]
    /// Reschedule keys, apart from booking keys: the appointment each moved and its request's fingerprint.
    private var reschedulesByKey: [String: (appointmentID: Int64, requestFingerprint: String)] = [:]
    private var outbox: [Int64: BookingNotification] = [:]
    /// The `pending` notifications in the order claims take them: claims read only the due ones.
    private var pending = PendingNotifications()
    private var lastAppointmentID: Int64 = 0
    private var lastNotificationID: Int64 = 0
    private let signal = OutboxSignal()

    /// Creates an empty store.
    public init() {}

    /// Inserts the appointment with its `booked` and `reminder` notifications, or returns the one with the
    /// same idempotency key.
    public func insert(_ new: NewAppointment) throws(BookingError) -> InsertOutcome {
        try new.validate()
        if let key = new.idempotencyKey, let id = idsByIdempotencyKey[key], let existing = records[id] {
            return .existing(existing)
        }
        let now = new.now.roundedToMilliseconds
        let slot = Self.rounded(new.slot)
        if let hash = new.holdTokenHash {
            guard let held = storedHold(hash)?.hold, held.expiresAt > now else { throw .holdExpired }
            guard held.resource == new.resource, held.slot == slot else {
                throw .invalidInput(field: "holdToken", "holds another slot")
            }
        }
        dropLapsedHolds(now: now)
        if let refusal = refusal(
            resource: new.resource, slot: slot, occupied: Self.rounded(new.occupied), rules: new.rules, now: now,
            email: new.customerEmail, usingHold: new.holdTokenHash)
        {
            throw refusal
        }
        if let hash = new.holdTokenHash { holds[new.resource]?[hash] = nil }
        lastAppointmentID += 1
        let appointment = Appointment(
            id: lastAppointmentID, resource: new.resource, slot: Self.rounded(new.slot),
            occupied: Self.rounded(new.occupied), customerName: new.customerName, customerEmail: new.customerEmail,
            note: new.note, status: .booked, createdAt: now, updatedAt: now, cancelledAt: nil)
        let record = AppointmentRecord(
            appointment: appointment, cancelTokenHash: new.cancelTokenHash, idempotencyKey: new.idempotencyKey,
            requestFingerprint: new.requestFingerprint, sealedCancelToken: new.sealedCancelToken)
        records[appointment.id] = record
        // In place: a copy taken out of the dictionary would copy every interval on each booking.
        bookedByResource[new.resource, default: BookedSlots()].insert(
            slot: appointment.slot, occupied: appointment.occupied, id: appointment.id)
        if let key = new.idempotencyKey { idsByIdempotencyKey[key] = appointment.id }
        enqueue(.booked, for: appointment.id, now: now)
        enqueue(new.reminders, for: appointment.id, sequence: 0, now: now)
        return .created(record)
    }

    /// Cancels a booked appointment (its sequence up by one), enqueues its `cancelled` notification and
    /// makes its pending reminders obsolete; idempotent.
    public func cancel(id: Int64, now: Date) -> CancelOutcome? {
        guard var record = records[id] else { return nil }
        guard record.appointment.status == .booked else { return .alreadyCancelled(record.appointment) }
        let now = now.roundedToMilliseconds
        record.appointment.status = .cancelled
        record.appointment.cancelledAt = now
        record.appointment.updatedAt = now
        record.appointment.sequence += 1
        records[id] = record
        bookedByResource[record.appointment.resource]?.remove(id: id, occupiedStart: record.appointment.occupied.start)
        enqueue(.cancelled, for: id, now: now, sequence: record.appointment.sequence)
        makeRemindersObsolete(of: id, now: now)
        return .cancelled(record.appointment)
    }

    /// Moves a booked appointment, checking the new occupied interval against the other booked ones of
    /// its resource, enqueues its `rescheduled` notification and replaces its pending reminders.
    public func reschedule(_ move: AppointmentMove) throws(BookingError) -> RescheduleOutcome? {
        try move.validate()
        if let key = move.idempotencyKey, let existing = rescheduleRecord(idempotencyKey: key) {
            return .existing(existing)
        }
        guard var record = records[move.appointmentID] else { return nil }
        guard record.appointment.status == .booked else { throw .appointmentCancelled }
        let slot = Self.rounded(move.slot)
        let occupied = Self.rounded(move.occupied)
        if record.appointment.slot == slot {
            rememberReschedule(move)
            return .unchanged(record.appointment)
        }
        if move.onlyIfAlreadyThere {
            throw .slotNotOffered("the appointment moved meanwhile, and this slot is no longer offered")
        }
        let now = move.now.roundedToMilliseconds
        dropLapsedHolds(now: now)
        if let refusal = refusal(
            resource: record.appointment.resource, slot: slot, occupied: occupied, rules: move.rules, now: now,
            email: record.appointment.customerEmail, movingAppointment: move.appointmentID)
        {
            throw refusal
        }
        // In place: a copy taken out of the dictionary would copy the chunks it changes.
        bookedByResource[record.appointment.resource, default: BookedSlots()].remove(
            id: move.appointmentID, occupiedStart: record.appointment.occupied.start)
        bookedByResource[record.appointment.resource, default: BookedSlots()].insert(
            slot: slot, occupied: occupied, id: move.appointmentID)
        let previous = record.appointment.slot
        record.appointment.slot = slot
        record.appointment.occupied = occupied
        record.appointment.sequence += 1
        record.appointment.updatedAt = now
        records[move.appointmentID] = record
        rememberReschedule(move)
        enqueue(
            .rescheduled, for: move.appointmentID, now: now, sequence: record.appointment.sequence,
            previousSlot: previous)
        makeRemindersObsolete(of: move.appointmentID, now: now)
        enqueue(move.reminders, for: move.appointmentID, sequence: record.appointment.sequence, now: now)
        return .moved(record.appointment)
    }

    /// The reschedule stored under that key, with its appointment as it is now.
    public func rescheduleRecord(idempotencyKey: String) -> RescheduleRecord? {
        guard let stored = reschedulesByKey[idempotencyKey], let record = records[stored.appointmentID] else {
            return nil
        }
        return RescheduleRecord(appointment: record.appointment, requestFingerprint: stored.requestFingerprint)
    }

    /// The appointment with that id.
    public func record(id: Int64) -> AppointmentRecord? { records[id] }

    /// The appointment booked with that idempotency key.
    public func record(idempotencyKey: String) -> AppointmentRecord? {
        idsByIdempotencyKey[idempotencyKey].flatMap { records[$0] }
    }

    /// Every appointment, ordered by slot start, then id.
    public func appointments() -> [Appointment] {
        records.values.map(\.appointment).sorted { ($0.slot.start, $0.id) < ($1.slot.start, $1.id) }
    }

    /// Booked appointments (by binary search) and live holds of `resource` overlapping `window`.
    public func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Date) -> [SlotOccupant] {
        let booked =
            bookedByResource[resource]?.overlapping(window) { SlotOccupant(slot: $0.slot, occupied: $0.occupied) }
            ?? []
        let held = liveHolds(of: resource, overlapping: window, now: now.roundedToMilliseconds).map(\.occupant)
        // The booked come sorted by occupied start; only holds need merging in.
        guard !held.isEmpty else { return booked }
        return (booked + held).sorted { $0.occupied.start < $1.occupied.start }
    }

    /// Holds a seat after the rules' checks; lapsed holds go first.
    public func placeHold(_ hold: NewHold) throws(BookingError) -> SlotHold {
        try hold.validate()
        let now = hold.now.roundedToMilliseconds
        dropLapsedHolds(now: now)
        let slot = Self.rounded(hold.slot)
        if let refusal = refusal(
            resource: hold.resource, slot: slot, occupied: Self.rounded(hold.occupied), rules: hold.rules, now: now)
        {
            throw refusal
        }
        guard storedHold(hold.tokenHash) == nil else { throw .invalidInput(field: "tokenHash", "is already in use") }
        let placed = SlotHold(resource: hold.resource, slot: slot, expiresAt: hold.expiresAt.roundedToMilliseconds)
        holds[hold.resource, default: [:]][hold.tokenHash] = StoredHold(
            hold: placed, occupied: Self.rounded(hold.occupied))
        soonestHoldExpiry = min(soonestHoldExpiry ?? placed.expiresAt, placed.expiresAt)
        return placed
    }

    /// Deletes the live hold with that token hash.
    public func releaseHold(tokenHash: String, now: Date) -> Bool {
        guard let stored = storedHold(tokenHash) else { return false }
        holds[stored.hold.resource]?[tokenHash] = nil
        return stored.hold.expiresAt > now.roundedToMilliseconds
    }

    /// Leases due notifications, oldest due first, and counts an attempt on each.
    public func claimNotifications(_ claim: NotificationClaim) -> [BookingNotification] {
        let now = claim.now.roundedToMilliseconds
        var due: [BookingNotification] = []
        if claim.limit > 0 {
            pending.forEachDue(atOrBefore: now) { id in
                // A notification whose lease still runs is skipped: only the few in flight are.
                if let notification = outbox[id], notification.leaseExpiresAt.map({ $0 <= now }) ?? true {
                    due.append(notification)
                }
                return due.count < claim.limit
            }
        }
        return due.map { notification in
            var leased = notification
            leased.leaseOwner = claim.owner
            leased.leaseExpiresAt = claim.leaseExpiresAt.roundedToMilliseconds
            leased.attempts += 1
            leased.updatedAt = now
            outbox[leased.id] = leased
            return leased
        }
    }

    /// Leases due notifications and pairs each with its appointment, in one step of the actor.
    public func claimNotificationsWithAppointments(_ claim: NotificationClaim) -> [ClaimedNotification] {
        claimNotifications(claim).map { ClaimedNotification(notification: $0, appointment: records[$0.appointmentID]) }
    }

    /// Records an attempt's outcome if `owner` still holds the lease.
    public func finish(notification id: Int64, owner: String, outcome: DeliveryOutcome) -> Bool {
        guard var notification = outbox[id], notification.status == .pending, notification.leaseOwner == owner else {
            return false
        }
        notification.leaseOwner = nil
        notification.leaseExpiresAt = nil
        switch outcome {
        case .sent(let at):
            notification.status = .sent
            notification.sentAt = at.roundedToMilliseconds
            notification.updatedAt = at.roundedToMilliseconds
        case .retry(let error, let nextAttemptAt, let now):
            notification.lastError = error
            notification.nextAttemptAt = nextAttemptAt.roundedToMilliseconds
            notification.updatedAt = now.roundedToMilliseconds
        case .failed(let error, let now):
            notification.status = .failed
            notification.lastError = error
            notification.updatedAt = now.roundedToMilliseconds
        case .released(let now):
            notification.attempts = max(0, notification.attempts - 1)
            notification.updatedAt = now.roundedToMilliseconds
        case .obsolete(let now):
            notification.status = .obsolete
            notification.attempts = max(0, notification.attempts - 1)
            notification.updatedAt = now.roundedToMilliseconds
        }
        outbox[id] = notification
        if notification.status == .pending {
            pending.insert(id, due: notification.nextAttemptAt)
        } else {
            pending.remove(id)
        }
        return true
    }

    /// Records the outcomes in one step of the actor, each as ``finish(notification:owner:outcome:)`` does.
    public func finish(outcomes: [Int64: DeliveryOutcome], owner: String) -> Set<Int64> {
        Set(outcomes.compactMap { id, outcome in finish(notification: id, owner: owner, outcome: outcome) ? id : nil })
    }

    /// Renews the leases `owner` still holds among `ids`.
    public func renewLeases(of ids: [Int64], owner: String, now: Date, leaseExpiresAt: Date) -> Set<Int64> {
        var renewed: Set<Int64> = []
        for id in Set(ids) {
            guard var notification = outbox[id], notification.status == .pending, notification.leaseOwner == owner
            else { continue }
            notification.leaseExpiresAt = leaseExpiresAt.roundedToMilliseconds
            notification.updatedAt = now.roundedToMilliseconds
            outbox[id] = notification
            renewed.insert(id)
        }
        return renewed
    }

    /// Releases the leases of pending notifications whose owner starts with exactly `workerID + "/"`.
    public func releaseLeases(ofWorker workerID: String, now: Date) -> Set<Int64> {
        let prefix = Array((workerID + "/").unicodeScalars)
        var released: Set<Int64> = []
        for id in pending.ids {
            guard var notification = outbox[id] else { continue }
            // Scalar by scalar: no Unicode equivalence, so only the exact bytes a dispatcher wrote match.
            guard let owner = notification.leaseOwner, owner.unicodeScalars.starts(with: prefix) else { continue }
            notification.leaseOwner = nil
            notification.leaseExpiresAt = nil
            notification.updatedAt = now.roundedToMilliseconds
            outbox[id] = notification
            released.insert(id)
        }
        if !released.isEmpty { signal.signal() }
        return released
    }

    /// Moves a failed notification back to pending with its attempts reset.
    public func retryFailedNotification(id: Int64, now: Date) -> BookingNotification? {
        guard var notification = outbox[id] else { return nil }
        guard notification.status == .failed else { return notification }
        let now = now.roundedToMilliseconds
        notification.status = .pending
        notification.attempts = 0
        notification.nextAttemptAt = now
        notification.updatedAt = now
        outbox[id] = notification
        pending.insert(id, due: now)
        signal.signal()
        return notification
    }

    /// Notifications ordered by id.
    public func notifications(appointmentID: Int64?) -> [BookingNotification] {
        outbox.values.filter { appointmentID == nil || $0.appointmentID == appointmentID }.sorted { $0.id < $1.id }
    }

    /// Always healthy.
    public func checkHealth() {}

    /// Wakes dispatchers in this process when a notification is enqueued.
    public nonisolated func outboxWakeUps() -> AsyncStream<Void> { signal.stream() }

    private func enqueue(
        _ kind: BookingNotification.Kind, for appointmentID: Int64, now: Date, sequence: Int = 0,
        previousSlot: TimeSlot? = nil, dueAt: Date? = nil, reminderLead: Duration? = nil
    ) {
        lastNotificationID += 1
        outbox[lastNotificationID] = BookingNotification(
            id: lastNotificationID, appointmentID: appointmentID, kind: kind, status: .pending, attempts: 0,
            nextAttemptAt: dueAt?.roundedToMilliseconds ?? now, leaseOwner: nil, leaseExpiresAt: nil, lastError: nil,
            createdAt: now, updatedAt: now, sentAt: nil, sequence: sequence, previousSlot: previousSlot,
            reminderLead: reminderLead)
        pending.insert(lastNotificationID, due: dueAt?.roundedToMilliseconds ?? now)
        signal.signal()
    }

    /// One pending `reminder` per scheduled reminder, due at its time.
    private func enqueue(_ reminders: [ScheduledReminder], for appointmentID: Int64, sequence: Int, now: Date) {
        for reminder in reminders {
            enqueue(
                .reminder, for: appointmentID, now: now, sequence: sequence, dueAt: reminder.dueAt,
                reminderLead: reminder.lead)
        }
    }

    /// Every pending reminder of the appointment becomes obsolete, its lease dropped.
    private func makeRemindersObsolete(of appointmentID: Int64, now: Date) {
        for id in Array(pending.ids) {
            guard var notification = outbox[id], notification.appointmentID == appointmentID,
                notification.kind == .reminder
            else { continue }
            notification.status = .obsolete
            notification.leaseOwner = nil
            notification.leaseExpiresAt = nil
            notification.updatedAt = now
            outbox[id] = notification
            pending.remove(id)
        }
    }

    /// What ``BookingRules/refusal(slot:occupied:occupants:periodCounts:emailTaken:)`` says about taking
    /// `slot`, leaving out the appointment being moved and the hold being used.
    private func refusal(
        resource: ResourceID, slot: TimeSlot, occupied: TimeSlot, rules: BookingRules, now: Date,
        email: String? = nil, movingAppointment: Int64? = nil, usingHold: String? = nil
    ) -> BookingError? {
        let booked = (bookedByResource[resource]?.overlapping(occupied) ?? []).filter { $0.id != movingAppointment }
        let held = liveHolds(of: resource, overlapping: occupied, now: now).filter { $0.tokenHash != usingHold }
        let occupants = booked.map { SlotOccupant(slot: $0.slot, occupied: $0.occupied) } + held.map(\.occupant)
        let emailTaken =
            email.map { email in
                booked.contains {
                    $0.slot == slot && records[$0.id]?.appointment.customerEmail.lowercased() == email.lowercased()
                }
            } ?? false
        let periodCounts = rules.periodLimits.map { limit in
            let inPeriod = (bookedByResource[resource]?.overlapping(limit.period) ?? []).filter {
                $0.id != movingAppointment && limit.period.start <= $0.slot.start && $0.slot.start < limit.period.end
            }
            let heldInPeriod = liveHolds(of: resource, overlapping: limit.period, now: now).filter {
                $0.tokenHash != usingHold && limit.period.start <= $0.hold.slot.start
                    && $0.hold.slot.start < limit.period.end
            }
            return PeriodCount(booked: inPeriod.count, holdExpiries: heldInPeriod.map(\.hold.expiresAt))
        }
        return rules.refusal(
            slot: slot, occupied: occupied, occupants: occupants, periodCounts: periodCounts, emailTaken: emailTaken)
    }

    /// The holds of `resource` live at `now` whose occupied intervals overlap `window`.
    private func liveHolds(of resource: ResourceID, overlapping window: TimeSlot, now: Date)
        -> [(tokenHash: String, hold: SlotHold, occupant: SlotOccupant)]
    {
        (holds[resource] ?? [:]).compactMap { hash, stored in
            let hold = stored.hold
            guard hold.expiresAt > now, stored.occupied.overlaps(window) else { return nil }
            return (hash, hold, SlotOccupant(slot: hold.slot, occupied: stored.occupied, holdExpiresAt: hold.expiresAt))
        }
    }

    /// The hold with that token hash, of any resource.
    private func storedHold(_ tokenHash: String) -> StoredHold? {
        for byToken in holds.values { if let stored = byToken[tokenHash] { return stored } }
        return nil
    }

    /// Lapsed holds take nothing: drop them, once the soonest expiry has passed.
    private func dropLapsedHolds(now: Date) {
        guard let soonest = soonestHoldExpiry, soonest <= now else { return }
        holds = holds.compactMapValues { byToken in
            let live = byToken.filter { $0.value.hold.expiresAt > now }
            return live.isEmpty ? nil : live
        }
        soonestHoldExpiry = holds.values.flatMap(\.values).map(\.hold.expiresAt).min()
    }

    private func rememberReschedule(_ move: AppointmentMove) {
        guard let key = move.idempotencyKey else { return }
        reschedulesByKey[key] = (move.appointmentID, move.requestFingerprint)
    }

    private static func rounded(_ slot: TimeSlot) -> TimeSlot {
        // Both bounds only move to the nearest millisecond, and the input was checked by `validate()`.
        (try? TimeSlot(start: slot.start.roundedToMilliseconds, end: slot.end.roundedToMilliseconds)) ?? slot
    }
}

/// A hold as the in-memory store keeps it: the hold and its occupied interval.
private struct StoredHold {
    var hold: SlotHold
    var occupied: TimeSlot
}
