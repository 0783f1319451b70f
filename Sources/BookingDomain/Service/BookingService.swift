public import Foundation
public import Logging

/// The public facade of swift-booking: availability, booking, cancelling, rescheduling and reading appointments.
///
/// It does all validation and authorization and is the only caller of its ``BookingStore``.
///
/// ```swift
/// let service = BookingService(store: InMemoryStore(), configuration: .init())
/// let slots = try await service.availability()
/// let booking = try await service.book(BookingRequest(
///     slotStart: slots[0].slot.start, slotEnd: slots[0].slot.end, name: "Ada", email: "ada@example.com"))
/// _ = try await service.cancel(id: booking.appointment.id, authorization: .cancelToken(booking.cancelToken!))
/// ```
///
/// Listing every appointment and reading notifications are admin operations: a host must
/// check its admin credential before calling ``appointments()``, ``notifications(appointmentID:)``
/// or ``retryNotification(id:)``.
public struct BookingService: Sendable {
    /// Which schedule each resource follows.
    public struct Configuration: Sendable {
        /// The schedule of resources not listed in ``schedules``; `nil` rejects unlisted resources.
        public var defaultSchedule: Schedule?
        /// Schedules of named resources.
        public var schedules: [ResourceID: Schedule]
        /// How long a hold keeps its slot (``BookingService/hold(_:)``): 5 minutes unless set; kept between
        /// 10 seconds and 1 hour.
        public var holdDuration: Duration {
            didSet { holdDuration = Self.clamped(holdDuration) }
        }

        /// Creates a configuration; by default every resource follows the seed's schedule in UTC.
        public init(
            defaultSchedule: Schedule? = .standard(in: TimeZone(identifier: "UTC") ?? .current),
            schedules: [ResourceID: Schedule] = [:],
            holdDuration: Duration = .seconds(5 * 60)
        ) {
            self.defaultSchedule = defaultSchedule
            self.schedules = schedules
            self.holdDuration = Self.clamped(holdDuration)
        }

        private static func clamped(_ duration: Duration) -> Duration {
            min(max(duration, .seconds(10)), .seconds(3600))
        }
    }

    /// The store the service reads and writes.
    public let store: any BookingStore
    /// The schedules.
    public let configuration: Configuration
    /// Where "now" comes from.
    public let clock: any WallClock
    let logger: Logger

    /// Creates a service over `store`.
    public init(
        store: any BookingStore, configuration: Configuration = Configuration(),
        clock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "swift-booking", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// The schedule `resource` follows; ``BookingError/Code/notFound`` when it has none.
    public func schedule(for resource: ResourceID) throws(BookingError) -> Schedule {
        guard let schedule = configuration.schedules[resource] ?? configuration.defaultSchedule else {
            throw .notFound("resource")
        }
        return schedule
    }

    /// The free slots of `resource` between `from` (default now) and `to` (default the horizon), sorted,
    /// each with its seats left.
    ///
    /// The window is clamped to what the schedule offers now; `from` after `to`, or a NaN bound, is
    /// ``BookingError/Code/invalidInput`` (a `to` in the past without a `from` is an empty window, not one before its
    /// default). Slots taken by booked appointments or live holds, slots without a
    /// seat left and the slots of a day or week at its limit are left out.
    public func availability(resource: ResourceID = .default, from: Date? = nil, to: Date? = nil)
        async throws(BookingError) -> [AvailableSlot]
    {
        let schedule = try schedule(for: resource)
        let now = try clock.checkedNow()
        var problems: [String: String] = [:]
        if from?.timeIntervalSince1970.isNaN == true { problems["from"] = "must be an instant" }
        if to?.timeIntervalSince1970.isNaN == true { problems["to"] = "must be an instant" }
        guard problems.isEmpty else { throw .invalidInput(problems) }
        let start = from ?? min(now, to ?? now)
        let end = to ?? max(start, now).addingTimeInterval(schedule.horizon.timeInterval)
        guard start <= end else { throw .invalidInput(field: "to", "must not be before from") }
        guard start < end,
            let window = schedule.bookableWindow(within: TimeSlot(uncheckedStart: start, end: end), now: now)
        else { return [] }
        let readWindow = schedule.countingWindow(covering: schedule.occupiedInterval(of: window))
        let occupants = try await store.occupants(resource: resource, overlapping: readWindow, now: now)
        return schedule.availableSlots(in: window, now: now, occupants: occupants)
    }

    /// Books a slot: validates every field, checks the slot is offered, and stores the appointment
    /// with its `booked` notification and a `reminder` for each of the schedule's
    /// ``Schedule/reminderLeads`` whose moment (the start minus the lead) is still ahead.
    ///
    /// With an idempotency key, a retry of the same request returns the original appointment and its
    /// cancel token (the key's holder is the only one who can open the sealed token: see the README's
    /// security section); the same key with a different request is ``BookingError/Code/idempotencyKeyReused``.
    /// Keys never expire.
    /// Throws ``BookingError/Code/invalidInput``, ``BookingError/Code/slotNotOffered`` or
    /// ``BookingError/Code/slotUnavailable``; with a resource's capacity and limits also
    /// ``BookingError/Code/alreadyBooked`` and ``BookingError/Code/bookingLimitReached``; for a slot someone
    /// else holds, ``BookingError/Code/slotHeld``; with a ``BookingRequest/holdToken`` that names no live
    /// hold, ``BookingError/Code/holdExpired``.
    public func book(_ request: BookingRequest) async throws(BookingError) -> BookingConfirmation {
        let valid = try request.validated()
        let schedule = try schedule(for: valid.resource)
        let fingerprint = valid.fingerprint
        let storedKey = valid.idempotencyKey.map(ReplaySeal.storedKey(for:))
        if let storedKey, let existing = try await store.record(idempotencyKey: storedKey) {
            return try replay(existing, fingerprint: fingerprint, idempotencyKey: valid.idempotencyKey)
        }
        let now = try clock.checkedNow().roundedToMilliseconds
        try schedule.checkOffered(valid.slot, now: now)
        let token = SecretToken.generate()
        let outcome = try await store.insert(
            NewAppointment(
                resource: valid.resource, slot: valid.slot, occupied: schedule.occupiedInterval(of: valid.slot),
                customerName: valid.name, customerEmail: valid.email, note: valid.note,
                cancelTokenHash: SecretToken.sha256Hex(token), idempotencyKey: storedKey,
                requestFingerprint: fingerprint, now: now,
                sealedCancelToken: valid.idempotencyKey.flatMap { ReplaySeal.seal(token, idempotencyKey: $0) },
                reminders: ScheduledReminder.due(leads: schedule.reminderLeads, before: valid.slot.start, now: now),
                rules: schedule.rules(for: valid.slot), holdTokenHash: valid.holdToken.map(SecretToken.sha256Hex)))
        switch outcome {
        case .created(let record):
            logger.debug("booked appointment", metadata: ["appointment.id": "\(record.appointment.id)"])
            return BookingConfirmation(appointment: record.appointment, cancelToken: token, created: true)
        case .existing(let record):
            return try replay(record, fingerprint: fingerprint, idempotencyKey: valid.idempotencyKey)
        }
    }

    /// The original booking again, with its cancel token opened from the seal the key's holder can open.
    private func replay(_ record: AppointmentRecord, fingerprint: String, idempotencyKey: String?)
        throws(BookingError) -> BookingConfirmation
    {
        guard record.requestFingerprint == fingerprint else { throw .idempotencyKeyReused }
        var token: String?
        if let sealed = record.sealedCancelToken, let idempotencyKey {
            token = ReplaySeal.open(sealed, idempotencyKey: idempotencyKey)
        }
        return BookingConfirmation(appointment: record.appointment, cancelToken: token, created: false)
    }

    /// Cancels an appointment; idempotent: later calls return the same cancelled record, as
    /// ``CancelOutcome/alreadyCancelled(_:)``.
    ///
    /// The first call raises ``Appointment/sequence`` by one, writes a `cancelled` notification with it
    /// and makes the pending reminders obsolete, all in the store's transaction; of concurrent calls, exactly one
    /// answers ``CancelOutcome/cancelled(_:)``.
    ///
    /// Throws ``BookingError/Code/notFound`` for an unknown id and ``BookingError/Code/forbidden`` for a wrong token.
    public func cancel(id: Int64, authorization: Authorization) async throws(BookingError) -> CancelOutcome {
        _ = try await authorizedRecord(id: id, authorization)
        guard let outcome = try await store.cancel(id: id, now: try clock.checkedNow().roundedToMilliseconds) else {
            throw .notFound("appointment")
        }
        if case .cancelled = outcome { logger.debug("cancelled appointment", metadata: ["appointment.id": "\(id)"]) }
        return outcome
    }

    /// One appointment, for the admin or the holder of its cancel token; ``BookingError/Code/notFound``
    /// for an unknown id, ``BookingError/Code/forbidden`` for a wrong token.
    public func appointment(id: Int64, authorization: Authorization) async throws(BookingError) -> Appointment {
        try await authorizedRecord(id: id, authorization).appointment
    }

    /// Every appointment ordered by slot start, then id. Admin only: the host checks the credential.
    public func appointments() async throws(BookingError) -> [Appointment] {
        try await store.appointments()
    }

    /// The appointments of `resource`, booked and cancelled, whose slot starts at or after `instant`, ordered by slot
    /// start, then id: a resource's calendar feed. Admin only (or the feed's secret): the host checks the credential.
    /// A NaN instant is ``BookingError/Code/invalidInput``; one outside ``TimeSlot/supportedInstants`` counts as the
    /// nearest supported one.
    public func appointments(of resource: ResourceID, startingFrom instant: Date) async throws(BookingError)
        -> [Appointment]
    {
        guard let from = TimeSlot.nearestSupported(instant) else {
            throw .invalidInput(field: "from", "must be an instant")
        }
        return try await store.appointments(of: resource, startingFrom: from)
    }

    /// Outbox notifications, all or one appointment's, ordered by id. Admin only.
    public func notifications(appointmentID: Int64? = nil) async throws(BookingError) -> [BookingNotification] {
        try await store.notifications(appointmentID: appointmentID)
    }

    /// Moves a `failed` notification back to `pending` so it is delivered again. Admin only.
    public func retryNotification(id: Int64) async throws(BookingError) -> BookingNotification {
        guard
            let notification = try await store.retryFailedNotification(
                id: id, now: try clock.checkedNow().roundedToMilliseconds)
        else {
            throw .notFound("notification")
        }
        return notification
    }

    /// Throws unless the store answers.
    public func checkHealth() async throws(BookingError) {
        try await store.checkHealth()
    }

    /// The record of `id` when `authorization` grants it; ``BookingError/Code/notFound`` for an unknown id,
    /// ``BookingError/Code/forbidden`` for a token that is not the appointment's (a wrong credential, as a wrong admin
    /// token is).
    func authorizedRecord(id: Int64, _ authorization: Authorization) async throws(BookingError)
        -> AppointmentRecord
    {
        guard let record = try await store.record(id: id) else { throw .notFound("appointment") }
        switch authorization {
        case .admin:
            return record
        case .cancelToken(let token):
            guard SecretToken.matches(token, storedHash: record.cancelTokenHash) else { throw .forbidden }
            return record
        }
    }
}
