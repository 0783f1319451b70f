import BookingDomain
import Foundation

/// A double around the store under test that cancels the appointment of every reminder it claims, through
/// the store itself, right after the claim commits: a customer cancelling while a dispatcher holds the
/// reminder, before it re-reads the appointment.
struct CancelAfterClaimStore: BookingStore {
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

    func migrate() async throws(BookingError) { try await inner.migrate() }
    func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        try await inner.insert(appointment)
    }
    func cancel(id: Int64, now: Date) async throws(BookingError) -> CancelOutcome? {
        try await inner.cancel(id: id, now: now)
    }
    func reschedule(_ move: AppointmentMove) async throws(BookingError) -> RescheduleOutcome? {
        try await inner.reschedule(move)
    }
    func rescheduleRecord(idempotencyKey: String) async throws(BookingError) -> RescheduleRecord? {
        try await inner.rescheduleRecord(idempotencyKey: idempotencyKey)
    }
    func record(id: Int64) async throws(BookingError) -> AppointmentRecord? { try await inner.record(id: id) }
    func record(idempotencyKey: String) async throws(BookingError) -> AppointmentRecord? {
        try await inner.record(idempotencyKey: idempotencyKey)
    }
    func appointments() async throws(BookingError) -> [Appointment] { try await inner.appointments() }
    func appointments(of resource: ResourceID, startingFrom instant: Date) async throws(BookingError)
        -> [Appointment]
    {
        try await inner.appointments(of: resource, startingFrom: instant)
    }
    func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Date) async throws(BookingError)
        -> [SlotOccupant]
    {
        try await inner.occupants(resource: resource, overlapping: window, now: now)
    }
    func placeHold(_ hold: NewHold) async throws(BookingError) -> SlotHold { try await inner.placeHold(hold) }
    func releaseHold(tokenHash: String, now: Date) async throws(BookingError) -> Bool {
        try await inner.releaseHold(tokenHash: tokenHash, now: now)
    }
    func finish(notification id: Int64, owner: String, outcome: DeliveryOutcome) async throws(BookingError) -> Bool {
        try await inner.finish(notification: id, owner: owner, outcome: outcome)
    }
    func finish(outcomes: [Int64: DeliveryOutcome], owner: String) async throws(BookingError) -> Set<Int64> {
        try await inner.finish(outcomes: outcomes, owner: owner)
    }
    func renewLeases(of ids: [Int64], owner: String, now: Date, leaseExpiresAt: Date) async throws(BookingError)
        -> Set<Int64>
    {
        try await inner.renewLeases(of: ids, owner: owner, now: now, leaseExpiresAt: leaseExpiresAt)
    }
    func releaseLeases(ofWorker workerID: String, now: Date) async throws(BookingError) -> Set<Int64> {
        try await inner.releaseLeases(ofWorker: workerID, now: now)
    }
    func retryFailedNotification(id: Int64, now: Date) async throws(BookingError) -> BookingNotification? {
        try await inner.retryFailedNotification(id: id, now: now)
    }
    func notifications(appointmentID: Int64?) async throws(BookingError) -> [BookingNotification] {
        try await inner.notifications(appointmentID: appointmentID)
    }
    func checkHealth() async throws(BookingError) { try await inner.checkHealth() }
}
