/// A reschedule stored under an idempotency key: the appointment it moved, as it is now, and the
/// fingerprint of the request that used the key.
public struct RescheduleRecord: Hashable, Sendable {
    /// The appointment the key's request moved, in its current state.
    public var appointment: Appointment
    /// Hex SHA-256 of the request that used the key (see ``AppointmentMove/requestFingerprint``).
    public var requestFingerprint: String

    /// Creates a record.
    public init(appointment: Appointment, requestFingerprint: String) {
        self.appointment = appointment
        self.requestFingerprint = requestFingerprint
    }
}
