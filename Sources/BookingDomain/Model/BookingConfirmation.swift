/// The result of a booking: the appointment and, on first creation, its cancel token.
public struct BookingConfirmation: Hashable, Sendable {
    /// The appointment.
    public let appointment: Appointment
    /// The secret that lets its holder cancel or read the appointment.
    ///
    /// Only the SHA-256 of the token is stored, so it is returned once: `nil` when the
    /// confirmation replays an earlier booking with the same idempotency key.
    public let cancelToken: String?
    /// Whether this call created the appointment (`false` for an idempotent replay).
    public let created: Bool

    /// Creates a confirmation.
    public init(appointment: Appointment, cancelToken: String?, created: Bool) {
        self.appointment = appointment
        self.cancelToken = cancelToken
        self.created = created
    }
}
