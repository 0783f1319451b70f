/// The result of a reschedule: the appointment, and whether an earlier request with the same
/// idempotency key already answered.
public struct RescheduleConfirmation: Hashable, Sendable {
    /// The appointment in its current state.
    public let appointment: Appointment
    /// Whether this is the replay of an earlier request with the same idempotency key (nothing was written).
    public let replayed: Bool

    /// Creates a confirmation.
    public init(appointment: Appointment, replayed: Bool) {
        self.appointment = appointment
        self.replayed = replayed
    }
}
