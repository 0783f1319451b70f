/// The result of a booking: the appointment and its cancel token.
public struct BookingConfirmation: Hashable, Sendable {
    /// The appointment.
    public let appointment: Appointment
    /// The secret that lets its holder cancel or read the appointment.
    ///
    /// Only the SHA-256 of the token is stored for checking it. A replay with the same idempotency key
    /// returns it again, opened from a copy sealed under that key; `nil` only for a replay of a
    /// booking stored before sealed tokens existed.
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
