/// What ``BookingStore/reschedule(_:)`` did.
public enum RescheduleOutcome: Hashable, Sendable {
    /// The appointment moved: its slot changed, its sequence went up by one, and its `rescheduled`
    /// notification (and the idempotency key, if any) were committed with it.
    case moved(Appointment)
    /// The appointment already held the target slot: nothing changed but the idempotency key, if
    /// any, which now names this request.
    case unchanged(Appointment)
    /// A reschedule with the same idempotency key was stored before; nothing was written.
    case existing(RescheduleRecord)
}
