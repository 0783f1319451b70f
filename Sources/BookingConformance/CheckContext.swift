import BookingDomain
import Foundation

/// One check's fixtures and assertions.
struct CheckContext: Sendable {
    let check: ConformanceCheck
    let subject: StoreUnderTest
    let clock: ManualWallClock
    let now: Date

    init(check: ConformanceCheck, subject: StoreUnderTest, clock: ManualWallClock) {
        self.check = check
        self.subject = subject
        self.clock = clock
        self.now = clock.now()
    }

    var store: any BookingStore { subject.store }

    func run() async throws {
        switch check {
        case .bookingWritesAppointmentAndNotification: try await bookingWritesAppointmentAndNotification()
        case .concurrentBookingsOfOneSlot: try await concurrentBookingsOfOneSlot()
        case .concurrentOverlappingBookings: try await concurrentOverlappingBookings()
        case .differentResourcesDoNotConflict: try await differentResourcesDoNotConflict()
        case .occupiedIntervalsConflict: try await occupiedIntervalsConflict()
        case .refusedBookingWritesNothing: try await refusedBookingWritesNothing()
        case .cancelledSlotCanBeBookedAgain: try await cancelledSlotCanBeBookedAgain()
        case .concurrentCancels: try await concurrentCancels()
        case .cancelOfUnknownAppointment: try await cancelOfUnknownAppointment()
        case .concurrentIdempotentBookings: try await concurrentIdempotentBookings()
        case .listingOrder: try await listingOrder()
        case .timestampsRoundTrip: try await timestampsRoundTrip()
        case .unicodeTextRoundTrips: try await unicodeTextRoundTrips()
        case .bookedIntervalsOfAWindow: try await bookedIntervalsOfAWindow()
        case .concurrentClaimsNeverShare: try await concurrentClaimsNeverShare()
        case .expiredLeaseIsTakenOver: try await expiredLeaseIsTakenOver()
        case .retryWaitsUntilDue: try await retryWaitsUntilDue()
        case .failedAndSentAreFinal: try await failedAndSentAreFinal()
        case .releaseDoesNotCountAnAttempt: try await releaseDoesNotCountAnAttempt()
        case .survivesReopen: try await survivesReopen()
        case .dispatcherDeliversEachNotificationOnce: try await dispatcherDeliversEachNotificationOnce()
        case .dispatcherRetriesWithBackoff: try await dispatcherRetriesWithBackoff()
        case .dispatcherFailsPermanentErrorsAtOnce: try await dispatcherFailsPermanentErrorsAtOnce()
        case .dispatcherRecoversFromACrash: try await dispatcherRecoversFromACrash()
        case .concurrentDispatchersNeverOverlap: try await concurrentDispatchersNeverOverlap()
        }
    }

    // MARK: - Fixtures

    /// An appointment request `minutes` long starting `offset` minutes after `now`.
    func draft(
        _ resource: ResourceID = .default, at offset: Int, minutes: Int = 30, buffer: Int = 0, key: String? = nil,
        name: String = "Ada Lovelace"
    ) throws -> NewAppointment {
        let start = now.addingTimeInterval(Double(offset) * 60)
        let end = start.addingTimeInterval(Double(minutes) * 60)
        return NewAppointment(
            resource: resource, slot: try TimeSlot(start: start, end: end),
            occupied: try TimeSlot(
                start: start.addingTimeInterval(Double(-buffer) * 60), end: end.addingTimeInterval(Double(buffer) * 60)),
            customerName: name, customerEmail: "ada@example.com", note: "conformance",
            cancelTokenHash: String(repeating: "a", count: 64), idempotencyKey: key,
            requestFingerprint: "fingerprint-\(resource)-\(offset)-\(minutes)", now: now)
    }

    @discardableResult
    func book(_ new: NewAppointment) async throws -> Appointment {
        let outcome = try await store.insert(new)
        guard case .created(let record) = outcome else {
            throw failure("insert of a new appointment returned an existing one")
        }
        return record.appointment
    }

    func claim(_ owner: String, limit: Int = 100, at instant: Date? = nil, leaseSeconds: Double = 60) async throws
        -> [BookingNotification]
    {
        let at = instant ?? now
        return try await store.claimNotifications(
            NotificationClaim(owner: owner, limit: limit, now: at, leaseExpiresAt: at.addingTimeInterval(leaseSeconds)))
    }

    /// Runs `count` copies of `body` at once and collects their results.
    func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) async -> T) async -> [T] {
        await withTaskGroup(of: T.self) { group in
            for index in 0..<count { group.addTask { await body(index) } }
            var results: [T] = []
            for await result in group { results.append(result) }
            return results
        }
    }

    // MARK: - Assertions

    func failure(_ message: String) -> ConformanceFailure { ConformanceFailure(check: check, message: message) }

    func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw failure(message()) }
    }

    func expectEqual<T: Equatable>(_ actual: T, _ expected: T, _ what: String) throws {
        if actual != expected { throw failure("\(what): expected \(expected), got \(actual)") }
    }

    func expectError(_ code: BookingError.Code, _ what: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as BookingError {
            try expectEqual(error.code, code, "\(what) error code")
            return
        }
        throw failure("\(what): expected \(code), but it succeeded")
    }
}
