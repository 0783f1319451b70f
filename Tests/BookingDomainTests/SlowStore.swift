import BookingDomain
import BookingTesting
import Foundation

/// A double around a store that answers the dispatcher's claims, its reads of an appointment and its lease renewals
/// only after `latency` of the test's clock: a database that takes seconds a statement.
struct SlowStore: ForwardingBookingStore {
    let inner: any BookingStore
    let clock: ManualWallClock
    let latency: Duration

    func claimNotifications(_ claim: NotificationClaim) async throws(BookingError) -> [BookingNotification] {
        defer { clock.advance(by: latency) }
        return try await inner.claimNotifications(claim)
    }
    func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
        -> [ClaimedNotification]
    {
        defer { clock.advance(by: latency) }
        return try await inner.claimNotificationsWithAppointments(claim)
    }
    func record(id: Int64) async throws(BookingError) -> AppointmentRecord? {
        defer { clock.advance(by: latency) }
        return try await inner.record(id: id)
    }
    func renewLeases(of ids: [Int64], owner: String, now: Date, leaseExpiresAt: Date) async throws(BookingError)
        -> Set<Int64>
    {
        defer { clock.advance(by: latency) }
        return try await inner.renewLeases(of: ids, owner: owner, now: now, leaseExpiresAt: leaseExpiresAt)
    }
}
