/// An appointment as a store holds it: the public value plus the secrets only the service reads.
public struct AppointmentRecord: Hashable, Sendable {
    /// The public appointment.
    public var appointment: Appointment
    /// Hex SHA-256 of the cancel token.
    public var cancelTokenHash: String
    /// The idempotency key it was booked with, as the service stores it (a SHA-256, never the key itself).
    public var idempotencyKey: String?
    /// Hex SHA-256 of the canonical booking request.
    public var requestFingerprint: String
    /// The cancel token sealed under the idempotency key (only for bookings made with one): what
    /// lets a replay return the token to the key's holder. Opaque to stores.
    public var sealedCancelToken: String?

    /// Creates a record.
    public init(
        appointment: Appointment, cancelTokenHash: String, idempotencyKey: String?, requestFingerprint: String,
        sealedCancelToken: String? = nil
    ) {
        self.appointment = appointment
        self.cancelTokenHash = cancelTokenHash
        self.idempotencyKey = idempotencyKey
        self.requestFingerprint = requestFingerprint
        self.sealedCancelToken = sealedCancelToken
    }

    /// The form in which a store keeps an idempotency key: lowercase hex SHA-256 of
    /// `idempotency-key:<key>`, so the database never holds a key that could open a sealed token.
    /// A store migrating rows that hold plain keys converts them with this.
    public static func storedIdempotencyKey(for key: String) -> String { ReplaySeal.storedKey(for: key) }
}
