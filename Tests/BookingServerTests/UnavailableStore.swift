import BookingDomain
import Foundation

/// A store whose database is down: every operation fails with `storeUnavailable`.
struct UnavailableStore: BookingStore {
    private var down: BookingError { .storeUnavailable("the test database is down") }

    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome { throw down }
    func cancel(id: Int64, now: Date) async throws(BookingError) -> CancelOutcome? { throw down }
    func reschedule(_ move: AppointmentMove) async throws(BookingError) -> RescheduleOutcome? { throw down }
    func rescheduleRecord(idempotencyKey: String) async throws(BookingError) -> RescheduleRecord? { throw down }
    func record(id: Int64) async throws(BookingError) -> AppointmentRecord? { throw down }
    func record(idempotencyKey: String) async throws(BookingError) -> AppointmentRecord? { throw down }
    func appointments() async throws(BookingError) -> [Appointment] { throw down }
    func appointments(of resource: ResourceID, startingFrom instant: Date) async throws(BookingError)
        -> [Appointment]
    { throw down }
    func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Date) async throws(BookingError)
        -> [SlotOccupant]
    { throw down }
    func placeHold(_ hold: NewHold) async throws(BookingError) -> SlotHold { throw down }
    func releaseHold(tokenHash: String, now: Date) async throws(BookingError) -> Bool { throw down }
    func claimNotifications(_ claim: NotificationClaim) async throws(BookingError) -> [BookingNotification] {
        throw down
    }
    func finish(notification id: Int64, owner: String, outcome: DeliveryOutcome) async throws(BookingError) -> Bool {
        throw down
    }
    func renewLeases(of ids: [Int64], owner: String, now: Date, leaseExpiresAt: Date) async throws(BookingError)
        -> Set<Int64>
    { throw down }
    func releaseLeases(ofWorker workerID: String, now: Date) async throws(BookingError) -> Set<Int64> { throw down }
    func retryFailedNotification(id: Int64, now: Date) async throws(BookingError) -> BookingNotification? {
        throw down
    }
    func notifications(appointmentID: Int64?) async throws(BookingError) -> [BookingNotification] { throw down }
    func checkHealth() async throws(BookingError) { throw down }
}
