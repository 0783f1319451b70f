import BookingDomain
import BookingTesting
import Foundation

/// A double around a store that answers the dispatcher's claims, its reads of an appointment and its lease renewals
/// only after `latency` of the test's clock: a database that takes seconds a statement.
struct SlowStore: BookingStore {
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
