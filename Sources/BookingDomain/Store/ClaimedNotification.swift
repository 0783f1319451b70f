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

    /// Each of `notifications`, in order, with its appointment among `records` (read at once for the whole
    /// claim, in any order); `nil` for one that `records` lacks.
    public static func pairing(_ notifications: [BookingNotification], with records: [AppointmentRecord])
        -> [ClaimedNotification]
    {
        let byID = Dictionary(records.map { ($0.appointment.id, $0) }, uniquingKeysWith: { first, _ in first })
        return notifications.map { ClaimedNotification(notification: $0, appointment: byID[$0.appointmentID]) }
    }
}
