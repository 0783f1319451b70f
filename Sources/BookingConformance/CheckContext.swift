import BookingDomain
import BookingTesting
import Foundation
import Logging

/// What a check's body works with: the store, a clock of its own, fixtures and assertions.
struct CheckContext: Sendable {
    let check: ConformanceCheck
    let subject: StoreUnderTest
    let clock: ManualWallClock
    let now: Date

    init(check: ConformanceCheck, subject: StoreUnderTest, clock: ManualWallClock, concurrency: Int) {
        self.check = check
        self.subject = subject
        self.clock = clock
        self.now = clock.now()
        self.concurrency = concurrency
    }

    var store: any BookingStore { subject.store }

    /// How many tasks the concurrency checks start at once.
    let concurrency: Int

    func run() async throws { try await check.body(self) }

    // MARK: - Fixtures

    /// An appointment request `minutes` long starting `offset` minutes after `now`, with a reminder for each
    /// of `reminders` (leads in minutes) whose moment is after `now`.
    func draft(
        _ resource: ResourceID = .default, at offset: Int, minutes: Int = 30, buffer: Int = 0, key: String? = nil,
        name: String = "Ada Lovelace", email: String = "ada@example.com", reminders: [Int] = [],
        rules: BookingRules = .single, holdToken: String? = nil
    ) throws -> NewAppointment {
        let start = now.addingTimeInterval(Double(offset) * 60)
        let end = start.addingTimeInterval(Double(minutes) * 60)
        return NewAppointment(
            resource: resource, slot: try TimeSlot(start: start, end: end),
            occupied: try TimeSlot(
                start: start.addingTimeInterval(Double(-buffer) * 60), end: end.addingTimeInterval(Double(buffer) * 60)),
            customerName: name, customerEmail: email, note: "conformance",
            cancelTokenHash: String(repeating: "a", count: 64), idempotencyKey: key,
            requestFingerprint: "fingerprint-\(resource)-\(offset)-\(minutes)", now: now,
            reminders: ScheduledReminder.due(leads: reminders.map { .minutes($0) }, before: start, now: now),
            rules: rules, holdTokenHash: holdToken.map(Self.tokenHash))
    }

    /// A hold of the slot `minutes` long starting `offset` minutes after `now`, placed `seconds` after `now`
    /// and lapsing `lasting` seconds later, under the token hash of `token`.
    func hold(
        _ token: String, at offset: Int, minutes: Int = 30, buffer: Int = 0, seconds: Double = 0,
        lasting: Double = 300, rules: BookingRules = .single, resource: ResourceID = .default
    ) throws -> NewHold {
        let target = try draft(resource, at: offset, minutes: minutes, buffer: buffer)
        let at = now.addingTimeInterval(seconds).roundedToMilliseconds
        return NewHold(
            resource: resource, slot: target.slot, occupied: target.occupied, tokenHash: Self.tokenHash(token),
            expiresAt: at.addingTimeInterval(lasting).roundedToMilliseconds, now: at, rules: rules)
    }

    /// The stored form of a hold token.
    static func tokenHash(_ token: String) -> String { SecretToken.sha256Hex(token) }

    /// A period limit of `limit` over `hours` hours from `offset` minutes after `now`.
    func limit(_ kind: PeriodLimit.Kind = .day, _ limit: Int, from offset: Int = 0, hours: Int = 24) throws
        -> PeriodLimit
    {
        let start = now.addingTimeInterval(Double(offset) * 60)
        return PeriodLimit(
            kind: kind, period: try TimeSlot(start: start, end: start.addingTimeInterval(Double(hours) * 3600)),
            limit: limit)
    }

    /// The occupied intervals of every booked appointment and hold (live at `at`, default `now`) of the default
    /// resource overlapping `window`, in the store's order.
    func occupiedIntervals(overlapping window: TimeSlot, at: Date? = nil) async throws -> [TimeSlot] {
        try await store.occupants(resource: .default, overlapping: window, now: at ?? now).map(\.occupied)
    }

    /// A move of appointment `id` to a slot `minutes` long starting `offset` minutes after `now`, made `seconds`
    /// after `now`, with a reminder for each of `reminders` (leads in minutes) whose moment is after the move.
    func move(
        _ id: Int64, to offset: Int, minutes: Int = 30, buffer: Int = 0, key: String? = nil, seconds: Double = 1,
        reminders: [Int] = [], rules: BookingRules = .single
    ) throws -> AppointmentMove {
        let target = try draft(at: offset, minutes: minutes, buffer: buffer)
        let at = now.addingTimeInterval(seconds).roundedToMilliseconds
        return AppointmentMove(
            appointmentID: id, slot: target.slot, occupied: target.occupied, idempotencyKey: key,
            requestFingerprint: "move-\(id)-\(offset)-\(minutes)", now: at,
            reminders: ScheduledReminder.due(leads: reminders.map { .minutes($0) }, before: target.slot.start, now: at),
            rules: rules)
    }

    /// A move that must succeed; returns the moved appointment.
    @discardableResult
    func reschedule(_ move: AppointmentMove) async throws -> Appointment {
        guard case .moved(let appointment)? = try await store.reschedule(move) else {
            throw failure("a move to a free slot did not move the appointment")
        }
        return appointment
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

    /// A dispatcher on the store (or on a `double` around it) with the check's clock: 60 s leases, 20 s send
    /// timeout (2 s lease margin).
    func dispatcher(
        _ sender: any NotificationSender, batchSize: Int = 20, concurrentSends: Int = 4,
        sendTimeout: Duration = .seconds(20), maxAttempts: Int = 10, worker: String = "conformance",
        on double: (any BookingStore)? = nil
    ) -> NotificationDispatcher {
        NotificationDispatcher(
            store: double ?? store, sender: sender,
            configuration: .init(
                batchSize: batchSize, concurrentSends: concurrentSends, leaseDuration: .seconds(60),
                sendTimeout: sendTimeout, maxAttempts: maxAttempts),
            clock: clock, logger: Logger(label: "conformance", factory: { _ in SwiftLogNoOpLogHandler() }),
            workerID: worker)
    }

    /// Every stored notification, by id.
    func storedNotifications() async throws -> [Int64: BookingNotification] {
        Dictionary(uniqueKeysWithValues: try await store.notifications(appointmentID: nil).map { ($0.id, $0) })
    }

    /// `U+1F469 U+200D ...`: how a failure message shows text scalar by scalar.
    static func scalars(_ text: String) -> String {
        text.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }.joined(separator: " ")
    }

    /// One insert, as a result: the concurrency checks collect them.
    static func attempt(_ store: any BookingStore, _ new: NewAppointment) async -> Result<Int64, BookingError> {
        do { return .success(try await store.insert(new).record.appointment.id) } catch { return .failure(error) }
    }

    /// One hold, as a result.
    static func attempt(_ store: any BookingStore, _ hold: NewHold) async -> Result<Date, BookingError> {
        do { return .success(try await store.placeHold(hold).expiresAt) } catch { return .failure(error) }
    }

    /// Exactly `count` winners; every loser got `code`.
    func expectWinners<T>(_ outcomes: [Result<T, BookingError>], _ count: Int, losersGet codes: Set<BookingError.Code>)
        throws
    {
        let winners = outcomes.filter { if case .success = $0 { true } else { false } }
        try expectEqual(winners.count, count, "attempts that succeeded")
        let errors = outcomes.compactMap { if case .failure(let error) = $0 { error } else { nil } }
        try expect(
            errors.allSatisfy { codes.contains($0.code) },
            "losers must get \(codes.map(\.description).sorted()), got \(Set(errors.map(\.description)))")
    }

    /// The booked appointments of the store.
    func bookedAppointments() async throws -> [Appointment] {
        try await store.appointments().filter { $0.status == .booked }
    }

    /// Exactly one winner; every loser got `slotUnavailable`.
    func expectConcurrentWinner(_ outcomes: [Result<Int64, BookingError>]) throws {
        let winners = outcomes.compactMap { try? $0.get() }
        try expectEqual(winners.count, 1, "bookings that succeeded")
        let errors = outcomes.compactMap { if case .failure(let error) = $0 { error } else { nil } }
        try expect(
            errors.allSatisfy { $0.code == .slotUnavailable },
            "losers must get SLOT_UNAVAILABLE, got \(Set(errors.map(\.description)))")
    }

    /// One appointment and one notification stored.
    func expectSingleBooking() async throws {
        try expectEqual(try await store.appointments().count, 1, "appointments stored")
        try expectEqual(try await store.notifications(appointmentID: nil).count, 1, "notifications stored")
    }

    // MARK: - Assertions

    /// Every appointment and notification of a store: what an operation that must change nothing compares.
    struct StoreContents: Equatable {
        let appointments: [Appointment]
        let notifications: [BookingNotification]
    }

    /// The contents of `store` (the check's own by default).
    func contents(of store: (any BookingStore)? = nil) async throws -> StoreContents {
        let store = store ?? self.store
        return StoreContents(
            appointments: try await store.appointments(),
            notifications: try await store.notifications(appointmentID: nil))
    }

    /// Fails unless `store` (the check's own by default) still holds exactly `before`; `when` completes the
    /// messages ("appointments after migrate()").
    func expectUnchanged(_ before: StoreContents, _ when: String, in store: (any BookingStore)? = nil) async throws {
        let after = try await contents(of: store)
        try expectEqual(after.appointments, before.appointments, "appointments \(when)")
        try expectEqual(after.notifications, before.notifications, "notifications \(when)")
    }

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
