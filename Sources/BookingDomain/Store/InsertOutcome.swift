/// What ``BookingStore/insert(_:)`` did.
public enum InsertOutcome: Hashable, Sendable {
    /// A new appointment and its `booked` notification were committed.
    case created(AppointmentRecord)
    /// An appointment with the same idempotency key already existed; nothing was written.
    case existing(AppointmentRecord)

    /// The record, created or found.
    public var record: AppointmentRecord {
        switch self {
        case .created(let record), .existing(let record): record
        }
    }
}
