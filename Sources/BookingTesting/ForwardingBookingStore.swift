import BookingDomain
import Foundation

/// A test double around another store: every operation goes to ``inner`` unless the double implements it itself,
/// so a double states only what it changes (a slow statement, a cancel right after a claim). Its lifecycle (`run()`)
/// and its outbox wake-ups are the protocol's defaults, not the inner store's.
package protocol ForwardingBookingStore: BookingStore {
    /// The store every operation the double leaves alone goes to.
    var inner: any BookingStore { get }
}

extension ForwardingBookingStore {
    package func migrate() async throws(BookingError) { try await inner.migrate() }
    package func insert(_ appointment: NewAppointment) async throws(BookingError) -> InsertOutcome {
        try await inner.insert(appointment)
    }
    package func cancel(id: Int64, now: Date) async throws(BookingError) -> CancelOutcome? {
        try await inner.cancel(id: id, now: now)
    }
    package func reschedule(_ move: AppointmentMove) async throws(BookingError) -> RescheduleOutcome? {
        try await inner.reschedule(move)
    }
    package func rescheduleRecord(idempotencyKey: String) async throws(BookingError) -> RescheduleRecord? {
        try await inner.rescheduleRecord(idempotencyKey: idempotencyKey)
    }
    package func record(id: Int64) async throws(BookingError) -> AppointmentRecord? { try await inner.record(id: id) }
    package func record(idempotencyKey: String) async throws(BookingError) -> AppointmentRecord? {
        try await inner.record(idempotencyKey: idempotencyKey)
    }
    package func appointments() async throws(BookingError) -> [Appointment] { try await inner.appointments() }
    package func appointments(of resource: ResourceID, startingFrom instant: Date) async throws(BookingError)
        -> [Appointment]
    {
        try await inner.appointments(of: resource, startingFrom: instant)
    }
    package func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Date) async throws(BookingError)
        -> [SlotOccupant]
    {
        try await inner.occupants(resource: resource, overlapping: window, now: now)
    }
    package func placeHold(_ hold: NewHold) async throws(BookingError) -> SlotHold { try await inner.placeHold(hold) }
    package func releaseHold(tokenHash: String, now: Date) async throws(BookingError) -> Bool {
        try await inner.releaseHold(tokenHash: tokenHash, now: now)
    }
    package func claimNotifications(_ claim: NotificationClaim) async throws(BookingError) -> [BookingNotification] {
        try await inner.claimNotifications(claim)
    }
    package func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
        -> [ClaimedNotification]
    {
        try await inner.claimNotificationsWithAppointments(claim)
    }
    package func finish(notification id: Int64, owner: String, outcome: DeliveryOutcome) async throws(BookingError)
        -> Bool
    {
        try await inner.finish(notification: id, owner: owner, outcome: outcome)
    }
    package func finish(outcomes: [Int64: DeliveryOutcome], owner: String) async throws(BookingError) -> Set<Int64> {
        try await inner.finish(outcomes: outcomes, owner: owner)
    }
    package func renewLeases(of ids: [Int64], owner: String, now: Date, leaseExpiresAt: Date)
        async throws(BookingError) -> Set<Int64>
    {
        try await inner.renewLeases(of: ids, owner: owner, now: now, leaseExpiresAt: leaseExpiresAt)
    }
    package func releaseLeases(ofWorker workerID: String, now: Date) async throws(BookingError) -> Set<Int64> {
        try await inner.releaseLeases(ofWorker: workerID, now: now)
    }
    package func retryFailedNotification(id: Int64, now: Date) async throws(BookingError) -> BookingNotification? {
        try await inner.retryFailedNotification(id: id, now: now)
    }
    package func notifications(appointmentID: Int64?) async throws(BookingError) -> [BookingNotification] {
        try await inner.notifications(appointmentID: appointmentID)
    }
    package func checkHealth() async throws(BookingError) { try await inner.checkHealth() }
}
