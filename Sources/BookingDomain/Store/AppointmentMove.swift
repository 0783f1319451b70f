public import Foundation

/// What ``BookingService`` asks a store to do for a reschedule: move one booked appointment to
/// another slot, atomically.
public struct AppointmentMove: Hashable, Sendable {
    /// The appointment to move.
    public var appointmentID: Int64
    /// The new slot.
    public var slot: TimeSlot
    /// The new slot widened by the buffers; must contain `slot`.
    public var occupied: TimeSlot
    /// The client's idempotency key as the service stores it (a SHA-256 of it), unique among all
    /// reschedules and kept apart from the keys of bookings.
    public var idempotencyKey: String?
    /// Hex SHA-256 of the canonical request (appointment and target slot), to tell a replay from a reused key.
    public var requestFingerprint: String
    /// The time of the move: the appointment's `updated_at` and the notification's timestamps.
    public var now: Date
    /// Set when the schedule no longer offers `slot` and the service saw the appointment already in it:
    /// the store returns ``RescheduleOutcome/unchanged(_:)`` if the appointment still holds `slot`, and
    /// otherwise (a concurrent move took it elsewhere) throws ``BookingError/Code/slotNotOffered`` and
    /// changes nothing, so no move ever lands in a slot that is not offered.
    public var onlyIfAlreadyThere: Bool
    /// The `reminder` notifications for the new slot, written with the move's sequence; the appointment's
    /// pending reminders for its old slot become obsolete. Empty for none.
    public var reminders: [ScheduledReminder]
    /// The seats and limits of the new slot; the appointment itself is not counted against them.
    public var rules: BookingRules

    /// Creates the move request.
    public init(
        appointmentID: Int64, slot: TimeSlot, occupied: TimeSlot, idempotencyKey: String?, requestFingerprint: String,
        now: Date, onlyIfAlreadyThere: Bool = false, reminders: [ScheduledReminder] = [],
        rules: BookingRules = .single
    ) {
        self.appointmentID = appointmentID
        self.slot = slot
        self.occupied = occupied
        self.idempotencyKey = idempotencyKey
        self.requestFingerprint = requestFingerprint
        self.now = now
        self.onlyIfAlreadyThere = onlyIfAlreadyThere
        self.reminders = reminders
        self.rules = rules
    }

    /// Checks what every store must refuse before writing: an occupied interval that does not
    /// contain the slot, an empty key, or reminders that are not each due once, after `now`, at the new
    /// slot's start minus a lead of whole minutes.
    public func validate() throws(BookingError) {
        var problems = TimeSlot.boundsProblems(slot: slot, occupied: occupied, now: now)
        if !occupied.contains(slot) { problems["occupied"] = problems["occupied"] ?? "must contain the slot" }
        if let key = idempotencyKey, key.isEmpty { problems["idempotencyKey"] = "must not be empty" }
        if problems["slotStart"] == nil, problems["now"] == nil,
            let problem = ScheduledReminder.problem(in: reminders, start: slot.start, now: now)
        {
            problems["reminders"] = problem
        }
        if let problem = rules.problem { problems["rules"] = problem }
        if !problems.isEmpty { throw .invalidInput(problems) }
    }
}
