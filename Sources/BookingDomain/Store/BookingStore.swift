public import Foundation
public import ServiceLifecycle

/// Where appointments and their outbox notifications live.
///
/// `BookingStore` is to swift-booking what `LogHandler` is to swift-log: a small protocol with
/// several backends (`InMemoryStore`, `SQLiteStore`, `PostgresStore`). Only ``BookingService``
/// and ``NotificationDispatcher`` call it; every time they pass in comes from their clock, and a
/// store never reads a clock of its own.
///
/// Every store must keep these invariants, which the `BookingConformance` library checks:
/// 1. The occupied intervals of two `booked` appointments of one resource never overlap, under
///    any concurrency; a conflicting insert throws ``BookingError/Code/slotUnavailable``.
/// 2. An appointment, its `booked` notification and its `reminder` notifications are committed
///    together or not at all; there is exactly one notification per (appointment, kind, sequence,
///    reminder lead), where the lead is that of a `reminder` and 0 for every other kind (a
///    unique key in the database).
/// 3. Concurrent cancels make one transition: the appointment's sequence up by one, one `cancelled`
///    notification with that sequence, and its pending reminders `obsolete`.
/// 4. Concurrent inserts with one idempotency key create one appointment.
/// 5. Listing is ordered by slot start, then id.
/// 6. Instants round-trip exactly at millisecond precision.
/// 7. Durable stores keep everything across close and reopen.
/// 8. A claim leases due notifications to one owner; finishing, renewing and releasing are guarded
///    by that owner.
/// 9. Migrations are versioned, idempotent and safe when two processes start at once.
/// 10. A reschedule is atomic: the old slot is freed, the new one taken, the sequence raised by one
///     and one `rescheduled` notification written together, or nothing changes; the new occupied
///     interval may overlap the appointment's own old one but no other booked one, under any
///     concurrency; concurrent reschedules with one idempotency key make one move.
/// 11. Reminders: a claim never takes an `obsolete` notification (only `pending` ones are due); a
///     cancel makes the appointment's pending reminders `obsolete` and a move replaces them (the
///     pending ones for the old slot `obsolete`, ``AppointmentMove/reminders`` written with the move's
///     sequence), each in its own transaction.
/// 12. Capacity, limits and holds (``BookingRules``): a booking, a move and a hold take a slot only when
///     ``BookingRules/refusal(slot:occupied:occupants:periodCounts:emailTaken:)`` finds no reason against it
///     on what the transaction sees, and every taker of one slot (or of overlapping slots, or of one day or
///     week under a limit) is serialised, so under any concurrency a slot never has more than `capacity`
///     booked appointments and live holds, a day or week never more than its limit, and two slots whose
///     occupied intervals overlap are never both taken. A hold is live while the service's `now` is before
///     its expiry: a store never reads a clock, and clears lapsed holds in the transaction that needs their
///     slot. A booking with ``NewAppointment/holdTokenHash`` uses and deletes that live hold atomically.
///
/// **Lifecycle.** A store is a swift-service-lifecycle `Service`, like Hummingbird's `PersistDriver`:
/// ``run()`` runs what it needs in the background (PostgresStore: its connection pool, the `LISTEN`
/// for outbox wake-ups and the `NOTIFY` sender) until graceful shutdown or cancellation, and
/// ``migrate()`` brings its schema up to date once ``run()`` is running. Stores that need neither
/// keep the defaults. A host adds the store to its `ServiceGroup` before the services that use it,
/// so it stops last:
///
/// ```swift
/// let group = ServiceGroup(services: [store, dispatcher, server], logger: logger)
/// ```
///
/// Errors are ``BookingError``s: a lost connection is ``BookingError/Code/storeUnavailable``.
public protocol BookingStore: Service {
    /// Applies the pending schema migrations; returns when the schema is current.
    ///
    /// Idempotent and safe when several processes (or several callers in one process) call it at
    /// once (invariant 9). Refuses, with ``BookingError/Code/storeUnavailable``, a schema migrated by a
    /// newer version of swift-booking. Call it while ``run()`` is running.
    func migrate() async throws(BookingError)

    /// Inserts the appointment, its `booked` notification and one `reminder` notification per
    /// ``NewAppointment/reminders`` (sequence 0, due at its ``ScheduledReminder/dueAt``) atomically.
    ///
    /// When an appointment with `appointment.idempotencyKey` exists, writes nothing and returns it
    /// as ``InsertOutcome/existing(_:)``, even when the insert raced with the one that created it (a
    /// replay wins over every refusal below). Throws ``BookingError/Code/invalidInput`` for a request that
    /// fails ``NewAppointment/validate()``; ``BookingError/Code/holdExpired`` when
    /// ``NewAppointment/holdTokenHash`` names no hold live at ``NewAppointment/now``, and `invalidInput`
    /// (field `holdToken`) when it names a hold of another resource or slot; otherwise the refusal of
    /// ``NewAppointment/rules`` (invariant 12), leaving out the hold it uses.
    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome

    /// Moves a `booked` appointment to `cancelled`, atomically: ``Appointment/sequence`` up by one (a
    /// calendar's `SEQUENCE`), `cancelledAt` and `updatedAt` = `now`, one `cancelled` notification with the
    /// new sequence, and every `pending` reminder of the appointment `obsolete` (its lease dropped).
    ///
    /// A cancelled appointment is returned unchanged, as ``CancelOutcome/alreadyCancelled(_:)``: of any number of
    /// concurrent cancels of one appointment, exactly one answers ``CancelOutcome/cancelled(_:)``. Returns `nil`
    /// when no appointment has that id.
    func cancel(id: Int64, now: Date) async throws(BookingError) -> CancelOutcome?

    /// Moves a `booked` appointment to `move.slot` atomically: the same id and cancel token, the new slot
    /// and occupied interval, ``Appointment/sequence`` up by one, `updatedAt` = `move.now`, and one
    /// `rescheduled` notification (with that sequence and the previous slot) in the same transaction.
    /// The appointment's `pending` reminders become `obsolete` (leases dropped) and one `reminder` per
    /// ``AppointmentMove/reminders`` is written with the new sequence: a reminder already sent for the
    /// old slot stays `sent`, and the new slot gets its own.
    ///
    /// In this order, all inside the transaction: when a reschedule with `move.idempotencyKey` was stored
    /// before, writes nothing and returns it as ``RescheduleOutcome/existing(_:)`` (even when the two
    /// raced); returns `nil` when no appointment has that id; throws
    /// ``BookingError/Code/appointmentCancelled`` for a cancelled one; returns
    /// ``RescheduleOutcome/unchanged(_:)`` when it already holds `move.slot` (recording the key);
    /// throws ``BookingError/Code/slotUnavailable``, changing nothing, when the new occupied interval
    /// overlaps that of another booked appointment of its resource (its own old interval does not count),
    /// or the refusal of ``AppointmentMove/rules`` for the new slot (invariant 12), the appointment itself
    /// not counted and its customer's email checked as for a booking.
    /// Reschedule keys live apart from booking keys: the same string may name one of each.
    func reschedule(_ move: AppointmentMove) async throws(BookingError) -> RescheduleOutcome?

    /// The reschedule stored under that idempotency key (as the service stores it), with its
    /// appointment as it is now.
    func rescheduleRecord(idempotencyKey: String) async throws(BookingError) -> RescheduleRecord?

    /// The appointment with that id, with its secrets.
    func record(id: Int64) async throws(BookingError) -> AppointmentRecord?

    /// The appointment booked with that idempotency key.
    func record(idempotencyKey: String) async throws(BookingError) -> AppointmentRecord?

    /// Every appointment, ordered by slot start, then id.
    func appointments() async throws(BookingError) -> [Appointment]

    /// The appointments of `resource`, booked and cancelled, whose slot starts at or after `instant`, ordered by
    /// slot start, then id (a resource's calendar feed).
    ///
    /// The default filters ``appointments()``, which reads the whole table; a database-backed store implements it to
    /// read only the rows from `instant` on (an index range scan), as `SQLiteStore` and `PostgresStore` do.
    func appointments(of resource: ResourceID, startingFrom instant: Date) async throws(BookingError)
        -> [Appointment]

    /// The `booked` appointments and the holds live at `now` of `resource` whose occupied intervals
    /// overlap `window`, sorted by occupied start.
    ///
    /// Must read only the window's rows (an index range scan), never the whole table.
    func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Date) async throws(BookingError)
        -> [SlotOccupant]

    /// Holds one seat of `hold.slot` until `hold.expiresAt`, in one transaction that first clears the
    /// lapsed holds in its way; throws the refusal of ``NewHold/rules`` (invariant 12) and changes nothing
    /// when the slot cannot be taken, and ``BookingError/Code/invalidInput`` for a request that fails
    /// ``NewHold/validate()``.
    @discardableResult
    func placeHold(_ hold: NewHold) async throws(BookingError) -> SlotHold

    /// Deletes the hold with that token hash if it is live at `now`; returns whether it did.
    func releaseHold(tokenHash: String, now: Date) async throws(BookingError) -> Bool

    /// Leases up to `claim.limit` due notifications to `claim.owner` and counts an attempt on each.
    ///
    /// Due means `pending`, `nextAttemptAt <= now`, and no lease or an expired one. Concurrent
    /// claimers never receive the same notification while its lease holds. Oldest due first.
    func claimNotifications(_ claim: NotificationClaim) async throws(BookingError) -> [BookingNotification]

    /// Leases as ``claimNotifications(_:)`` does, then reads the appointment of each leased notification as
    /// ``record(id:)`` reads it; same order as the claim. A read that fails leaves that appointment `nil`: the
    /// leases stand either way.
    ///
    /// The dispatcher's claim: it sends a notification other than a reminder with the appointment as read
    /// here, without a read of its own, when the send starts within a second of the claim (a reminder's
    /// appointment, a `nil` one, and one whose send starts later, it reads just before the send). The default
    /// claims, then calls ``record(id:)`` once per notification; a store overrides it to read them all at once,
    /// right after the claim, and pairs them with ``ClaimedNotification/pairing(_:with:)``.
    func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
        -> [ClaimedNotification]

    /// Records the outcome of an attempt, only if `owner` still holds the lease.
    ///
    /// ``DeliveryOutcome/obsolete(now:)`` makes the notification `obsolete`: the dispatcher found its
    /// reminder's appointment cancelled or moved.
    ///
    /// Returns `false` (and changes nothing) when the lease was taken over or the
    /// notification is no longer pending.
    func finish(notification id: Int64, owner: String, outcome: DeliveryOutcome) async throws(BookingError) -> Bool

    /// Records the outcomes of several attempts of one claim, each as ``finish(notification:owner:outcome:)``
    /// records it, only where `owner` still holds the lease; returns the ids whose outcome was recorded.
    ///
    /// The dispatcher's way to record outcomes that arrive together: one statement or transaction for all of
    /// them. The default records them one by one; when it throws, the outcomes before the failure may be
    /// recorded and the others are not (their leases lapse, and the notifications are claimed again).
    func finish(outcomes: [Int64: DeliveryOutcome], owner: String) async throws(BookingError) -> Set<Int64>

    /// Renews the leases `owner` still holds on the notifications `ids`: their lease now ends at `leaseExpiresAt`.
    ///
    /// The heartbeat of a send in flight. Only pending notifications whose lease owner is exactly `owner`
    /// change (their `updatedAt` becomes `now`); one whose lease was taken over, that is no longer
    /// pending, or that does not exist is left alone. A lease that lapsed but that nobody claimed since
    /// is still `owner`'s and is renewed: nobody else can be sending it. One statement or transaction.
    ///
    /// Returns the ids that were renewed; an id missing from the answer was lost, and its
    /// sender must not record an outcome as its owner.
    func renewLeases(of ids: [Int64], owner: String, now: Date, leaseExpiresAt: Date) async throws(BookingError)
        -> Set<Int64>

    /// Releases every lease held by the claims of one dispatcher identity: pending notifications whose
    /// lease owner starts with exactly `workerID + "/"` (compared character for character: no pattern
    /// wildcards, no case folding).
    ///
    /// A dispatcher restarted under the same identity calls it at start-up to take back at once what its
    /// previous run had claimed when it died, instead of waiting for those leases to lapse. The lease
    /// is dropped, the notification is due again, and its attempt count is kept as it is: the release
    /// counts no attempt of its own, and the interrupted attempt (which may have reached the receiver)
    /// stays counted, as when a lapsed lease is taken over. Owners are `"<workerID>/<claim-id>"`
    /// (see ``NotificationClaim/owner``), so `workerID` must not contain `/`. One statement or transaction.
    ///
    /// Returns the ids released.
    func releaseLeases(ofWorker workerID: String, now: Date) async throws(BookingError) -> Set<Int64>

    /// Moves a `failed` notification back to `pending`, due at `now`, with its attempts reset.
    ///
    /// Returns `nil` when no notification has that id; a notification that is not `failed` is returned unchanged.
    func retryFailedNotification(id: Int64, now: Date) async throws(BookingError) -> BookingNotification?

    /// Notifications, optionally only those of one appointment, ordered by id.
    func notifications(appointmentID: Int64?) async throws(BookingError) -> [BookingNotification]

    /// Answers when the store can serve requests (a cheap round trip).
    func checkHealth() async throws(BookingError)

    /// A stream that yields when new notifications may be due: a wake-up hint, never a promise.
    ///
    /// Stores without a signal keep the default, a stream that never yields; dispatchers
    /// poll as a backstop either way.
    func outboxWakeUps() -> AsyncStream<Void>
}

extension BookingStore {
    /// Nothing to migrate: the store's schema is current as soon as it is opened.
    public func migrate() async throws(BookingError) {}

    /// ``appointments()`` filtered to `resource`'s from `instant` on: the whole table read, for stores that keep it in
    /// memory.
    public func appointments(of resource: ResourceID, startingFrom instant: Date) async throws(BookingError)
        -> [Appointment]
    {
        let from = instant.roundedToMilliseconds
        return try await appointments().filter { $0.resource == resource && $0.slot.start >= from }
    }

    /// Nothing to run in the background: waits for graceful shutdown or cancellation.
    public func run() async throws {
        try? await gracefulShutdown()
    }

    /// A stream that never yields: no wake-up hints, the dispatcher polls.
    public func outboxWakeUps() -> AsyncStream<Void> {
        AsyncStream { _ in }
    }

    /// Records the outcomes one by one with ``finish(notification:owner:outcome:)``, in the order of their ids.
    public func finish(outcomes: [Int64: DeliveryOutcome], owner: String) async throws(BookingError) -> Set<Int64> {
        var recorded: Set<Int64> = []
        for (id, outcome) in outcomes.sorted(by: { $0.key < $1.key }) {
            if try await finish(notification: id, owner: owner, outcome: outcome) { recorded.insert(id) }
        }
        return recorded
    }

    /// Claims with ``claimNotifications(_:)``, then reads each appointment with ``record(id:)``.
    public func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
        -> [ClaimedNotification]
    {
        var claimed: [ClaimedNotification] = []
        for notification in try await claimNotifications(claim) {
            let appointment = try? await record(id: notification.appointmentID)
            claimed.append(ClaimedNotification(notification: notification, appointment: appointment ?? nil))
        }
        return claimed
    }
}
