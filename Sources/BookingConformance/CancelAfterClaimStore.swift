import BookingDomain
import BookingTesting
import Foundation

/// A double around the store under test that cancels the appointment of every reminder it claims, through
/// the store itself, right after the claim commits: a customer cancelling while a dispatcher holds the
/// reminder, before it re-reads the appointment.
struct CancelAfterClaimStore: ForwardingBookingStore {
    let inner: any BookingStore
    /// The time of the cancels.
    let cancelAt: Date

    func claimNotifications(_ claim: NotificationClaim) async throws(BookingError) -> [BookingNotification] {
        let claimed = try await inner.claimNotifications(claim)
        for reminder in claimed where reminder.kind == .reminder {
            _ = try await inner.cancel(id: reminder.appointmentID, now: cancelAt)
        }
        return claimed
    }

    /// The inner store's claim with its appointments as read then (booked), and the cancels after it: the
    /// dispatcher must read a reminder's appointment again before the send.
    func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
        -> [ClaimedNotification]
    {
        let claimed = try await inner.claimNotificationsWithAppointments(claim)
        for reminder in claimed.map(\.notification) where reminder.kind == .reminder {
            _ = try await inner.cancel(id: reminder.appointmentID, now: cancelAt)
        }
        return claimed
    }
}
