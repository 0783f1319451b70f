/// A notification a claim leased, with its appointment as read right after the claim.
public struct ClaimedNotification: Hashable, Sendable {
    /// The leased notification.
    public var notification: BookingNotification
    /// Its appointment as ``BookingStore/record(id:)`` read it after the claim; `nil` when it no longer exists or
    /// could not be read (the dispatcher then reads it itself).
    public var appointment: AppointmentRecord?

    /// Pairs a leased notification with its appointment.
    public init(notification: BookingNotification, appointment: AppointmentRecord?) {
        self.notification = notification
        self.appointment = appointment
    }
}
