/// What ``BookingStore/cancel(id:now:)`` did.
public enum CancelOutcome: Hashable, Sendable {
    /// This call moved the appointment from `booked` to `cancelled` and committed its `cancelled` notification.
    case cancelled(Appointment)
    /// The appointment was cancelled already (by an earlier or a concurrent call); nothing was written.
    case alreadyCancelled(Appointment)

    /// The appointment, cancelled now or before.
    public var appointment: Appointment {
        switch self {
        case .cancelled(let appointment), .alreadyCancelled(let appointment): appointment
        }
    }
}
