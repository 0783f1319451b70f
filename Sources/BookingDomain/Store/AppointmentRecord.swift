/// An appointment as a store holds it: the public value plus the secrets only the service reads.
public struct AppointmentRecord: Hashable, Sendable {
    /// The public appointment.
    public var appointment: Appointment
    /// Hex SHA-256 of the cancel token.
    public var cancelTokenHash: String
    /// The idempotency key it was booked with, if any.
    public var idempotencyKey: String?
    /// Hex SHA-256 of the canonical booking request.
    public var requestFingerprint: String

    /// Creates a record.
    public init(appointment: Appointment, cancelTokenHash: String, idempotencyKey: String?, requestFingerprint: String)
    {
        self.appointment = appointment
        self.cancelTokenHash = cancelTokenHash
        self.idempotencyKey = idempotencyKey
        self.requestFingerprint = requestFingerprint
    }
}
