/// The credential a caller presents to read or cancel one appointment.
public enum Authorization: Hashable, Sendable {
    /// The host verified the admin credential: any appointment.
    case admin
    /// The cancel token returned when the appointment was booked: that appointment only.
    case cancelToken(String)
}
