import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

/// An error whose description is full of personal data, like an SMTP rejection or an HTTP client error.
struct LeakyMailerError: Error, CustomStringConvertible, LocalizedError {
    var description: String {
        "550 5.1.1 <john.doe@example.com>: mailbox unavailable (https://hooks.example/cb?token=abc123&email=john.doe%40example.com)"
    }
    var errorDescription: String? { description }
}

/// A log handler that keeps every record as one line of text: level, message, metadata and error.
final class CapturingLogHandler: LogHandler, Sendable {
    private let records = Mutex<[String]>([])
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    var lines: [String] { records.withLock { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let error = event.error.map { " error: \($0)" } ?? ""
        records.withLock { $0.append("\(event.level) \(event.message) \(fields.joined(separator: " "))\(error)") }
    }
}

@Suite("notification dispatcher as a service")
struct NotificationDispatcherTests {
    let logger = Logger(label: "dispatcher-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    func bookedStore(_ count: Int, clock: any WallClock = SystemWallClock()) async throws -> InMemoryStore {
        let store = InMemoryStore()
        let service = BookingService(store: store, clock: clock)
        // Not the first slot: it may start while a busy machine stalls this task between reading and booking it.
        let slots = try await service.availability().dropFirst()
        for slot in slots.prefix(count) {
            _ = try await service.book(
                BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada", email: "ada@example.com"))
        }
        return store
    }

    @Test("a running dispatcher wakes on the store's signal, long before its poll interval")
    func wakesOnSignal() async throws {
        let store = InMemoryStore()
        let sender = RecordingNotificationSender()
        let service = BookingService(store: store)
        // Not the first slot: it may start while a busy machine stalls this task between reading and booking it.
        let slots = Array(try await service.availability().dropFirst())
        func book(_ slot: AvailableSlot) async throws {
            _ = try await service.book(
                BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada", email: "ada@example.com"))
        }
        // Until `count` notifications are recorded sent: the pass that sent them has ended.
        func waitUntilSent(_ count: Int) async throws {
            try await eventually {
                await store.notifications(appointmentID: nil).filter { $0.status == .sent }.count >= count
            }
        }
        // An hour between polls: after the first pass, only the signal can explain a delivery within the test.
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender, configuration: .init(pollInterval: .seconds(3600)), logger: logger)
        let group = ServiceGroup(services: [dispatcher], logger: logger)
        try await book(slots[0])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // The first pass sends the first booking's notification, then the dispatcher waits.
            try await waitUntilSent(1)
            try await book(slots[1])
            try await waitUntilSent(2)
            #expect(sender.delivered.count == 2)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// A store holding one booking in the first free slot, whose send runs `slowSend` first; the service, the free
    /// slots, that booking's id, and a sender that delivers everything else at once.
    func slowFirstBooking(_ slowSend: @escaping @Sendable () async -> Void) async throws -> (
        store: InMemoryStore, service: BookingService, slots: [AvailableSlot], slowID: Int64,
        sender: RecordingNotificationSender
    ) {
        let store = InMemoryStore()
        let service = BookingService(store: store)
        // Not the first slot: it may start while a busy machine stalls this task between reading and booking it.
        let slots = Array(try await service.availability().dropFirst())
        let slow = try await service.book(
            BookingRequest(slotStart: slots[0].start, slotEnd: slots[0].end, name: "Ada", email: "ada@example.com"))
        let slowID = slow.appointment.id
        let sender = RecordingNotificationSender(whileSending: { delivery, _ in
            if delivery.appointment.id == slowID { await slowSend() }
        })
        return (store, service, slots, slowID, sender)
    }

    /// Waits (at most 60 s, however starved the machine) until `sender` has been called.
    static func waitForACall(to sender: RecordingNotificationSender) async throws {
        try await eventually { !sender.calls.isEmpty }
    }

    @Test(
        "a pass held by one slow send claims what falls due meanwhile at its next poll, not after the slow send",
        .timeLimit(.minutes(3)))
    func slowSendHoldsNothingBack() async throws {
        // The slow send lasts until the test opens the gate, after its check: however slow the machine, the quick
        // one is delivered while the slow one still runs, or not at all.
        let gate = Gate()
        let (store, service, slots, slowID, sender) = try await slowFirstBooking { await gate.passed() }
        // A send timeout and leases far beyond the test's run: only the gate ends the slow send.
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(
                leaseDuration: .seconds(600), sendTimeout: .seconds(60), pollInterval: .milliseconds(200)),
            logger: logger)
        let group = ServiceGroup(services: [dispatcher], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Self.waitForACall(to: sender)
            #expect(sender.calls.count == 1, "the slow send is in flight")
            let quick = try await service.book(
                BookingRequest(slotStart: slots[1].start, slotEnd: slots[1].end, name: "Bo", email: "bo@example.com"))
            let started = ContinuousClock.now
            while sender.delivered.isEmpty && ContinuousClock.now - started < .seconds(30) {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(
                sender.delivered.map(\.appointment.id) == [quick.appointment.id],
                "delivered at a poll (every 0.2 s) while the slow send still runs")
            // Graceful shutdown lets the slow send finish.
            gate.open()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            #expect(Set(sender.delivered.map(\.appointment.id)) == [slowID, quick.appointment.id])
        }
        #expect(await store.notifications(appointmentID: nil).allSatisfy { $0.status == .sent })
    }

    @Test(
        "a refill keeps to batchSize: with batches of 1, nothing else is sent while the one slow send runs",
        .timeLimit(.minutes(3)))
    func refillKeepsToBatchSize() async throws {
        let gate = Gate()
        let (store, service, slots, _, sender) = try await slowFirstBooking { await gate.passed() }
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(batchSize: 1, leaseDuration: .seconds(600), pollInterval: .milliseconds(50)),
            logger: logger)
        let group = ServiceGroup(services: [dispatcher], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for _ in 0..<3000 where sender.calls.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            _ = try await service.book(
                BookingRequest(slotStart: slots[1].start, slotEnd: slots[1].end, name: "Bo", email: "bo@example.com"))
            try await Task.sleep(for: .milliseconds(1000))
            #expect(sender.calls.count == 1 && sender.delivered.isEmpty, "twenty polls passed; one send at a time")
            gate.open()
            for _ in 0..<3000 where sender.delivered.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(sender.delivered.count == 2, "after the slow send, the other")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test(
        "cancelling a dispatcher while a refill sends releases what the pass and its refill claimed, no attempt counted",
        .timeLimit(.minutes(3)))
    func cancelledDuringARefill() async throws {
        let store = InMemoryStore()
        let service = BookingService(store: store)
        // Not the first slot: it may start while a busy machine stalls this task between reading and booking it.
        let slots = Array(try await service.availability().dropFirst())
        // Every send waits until it is cancelled, then fails: nothing is delivered.
        let sender = RecordingNotificationSender(
            whileSending: { _, _ in try? await Task.sleep(for: .seconds(60)) },
            script: { _, _ in .transient("stopped") })
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(
                leaseDuration: .seconds(600), sendTimeout: .seconds(120), pollInterval: .milliseconds(50)),
            logger: logger)
        _ = try await service.book(
            BookingRequest(slotStart: slots[0].start, slotEnd: slots[0].end, name: "Ada", email: "ada@example.com"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await dispatcher.run() }
            for _ in 0..<3000 where sender.calls.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            _ = try await service.book(
                BookingRequest(slotStart: slots[1].start, slotEnd: slots[1].end, name: "Bo", email: "bo@example.com"))
            for _ in 0..<3000 where sender.calls.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(sender.calls.count == 2, "the refill sends the second while the first still runs")
            tasks.cancelAll()
            try? await tasks.waitForAll()
        }
        let notifications = await store.notifications(appointmentID: nil)
        #expect(notifications.count == 2)
        #expect(
            notifications.allSatisfy { $0.status == .pending && $0.attempts == 0 && $0.leaseOwner == nil },
            "\(notifications.map { ($0.status, $0.attempts, $0.leaseOwner ?? "-") })")
    }

    @Test("a store outage warns once: the passes failing after the first are at debug, and the recovery is said")
    func outageWarnsOnce() async throws {
        /// Fails every claim while `down`, counting them.
        final class FlakyStore: ForwardingBookingStore {
            let inner: any BookingStore
            let down = Mutex(true)
            let failedClaims = Atomic<Int>(0)
            init(_ inner: any BookingStore) { self.inner = inner }

            func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
                -> [ClaimedNotification]
            {
                if down.withLock({ $0 }) {
                    failedClaims.add(1, ordering: .relaxed)
                    throw BookingError.storeUnavailable("the test's outage")
                }
                return try await inner.claimNotificationsWithAppointments(claim)
            }
        }
        let store = FlakyStore(try await bookedStore(1))
        let sender = RecordingNotificationSender()
        let handler = CapturingLogHandler()
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender, configuration: .init(pollInterval: .milliseconds(20)),
            logger: Logger(label: "outage", factory: { _ in handler }))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await dispatcher.run() }
            try await eventually { store.failedClaims.load(ordering: .relaxed) >= 5 }
            store.down.withLock { $0 = false }
            try await eventually { !sender.calls.isEmpty }
            tasks.cancelAll()
            try? await tasks.waitForAll()
        }
        #expect(!sender.calls.isEmpty, "delivered once the store answers")
        let failures = handler.lines.filter { $0.contains("notification pass failed") }
        #expect(failures.count >= 5)
        #expect(failures.first?.hasPrefix("warning ") == true, "\(failures)")
        #expect(failures.dropFirst().allSatisfy { $0.hasPrefix("debug ") }, "\(failures)")
        let recovery = handler.lines.filter { $0.contains("notification passes succeed again") }
        #expect(recovery.count == 1 && recovery.first?.hasPrefix("info ") == true, "\(recovery)")
        #expect(recovery.first?.contains("failed=\(failures.count)") == true, "\(recovery)")
    }

    @Test("graceful shutdown lets the in-flight send finish and releases unused leases without counting an attempt")
    func gracefulShutdown() async throws {
        let store = try await bookedStore(5)
        // The first send answers once the shutdown has reached the dispatcher's task, whenever that is: the test
        // waits for events, so a busy machine cannot let a second send start first.
        let shutdownSeen = Gate()
        // After the gate, a moment more: a send the shutdown cancelled ends it at once and fails.
        let sender = RecordingNotificationSender(
            whileSending: { _, _ in
                await shutdownSeen.passed()
                try? await Task.sleep(for: .milliseconds(200))
            },
            script: { _, _ in Task.isCancelled ? .transient("cancelled by the shutdown") : nil })
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            // 600 s leases: the claim takes all five (a lease of one 30 s send would let it take one, releasing none).
            configuration: .init(
                batchSize: 5, concurrentSends: 1, leaseDuration: .seconds(600), sendTimeout: .seconds(30)),
            logger: logger)
        let group = ServiceGroup(services: [OpensOnShutdown(dispatcher, gate: shutdownSeen)], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Self.waitForACall(to: sender)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let notifications = await store.notifications(appointmentID: nil)
        #expect(sender.delivered.count == 1)
        #expect(notifications.filter { $0.status == .sent }.count == 1)
        let released = notifications.filter { $0.status == .pending }
        #expect(released.count == 4)
        #expect(released.allSatisfy { $0.attempts == 0 && $0.leaseOwner == nil })
    }

    @Test("routine events log at debug, as swift-log asks of libraries: a host at info writes none of them")
    func routineEventsLogAtDebug() async throws {
        let clock = ManualWallClock(now: instant("2027-03-01T08:00:00Z"))
        let store = InMemoryStore()
        let handler = CapturingLogHandler()
        let logger = Logger(label: "test", factory: { _ in handler })
        let service = BookingService(store: store, clock: clock, logger: logger)
        let slots = try await service.availability()
        let booked = try await service.book(
            BookingRequest(slotStart: slots[0].start, slotEnd: slots[0].end, name: "Ada", email: "ada@example.com"))
        _ = try await service.reschedule(
            id: booked.appointment.id, to: slots[1].slot, authorization: .cancelToken(try #require(booked.cancelToken)))
        _ = try await service.cancel(id: booked.appointment.id, authorization: .admin)
        let dispatcher = NotificationDispatcher(
            store: store, sender: RecordingNotificationSender(), clock: clock, logger: logger)
        #expect(try await dispatcher.drain().sent == 3)

        let lines = handler.lines
        for message in ["booked appointment", "rescheduled appointment", "cancelled appointment"] {
            #expect(lines.contains { $0.hasPrefix("debug \(message) ") }, "\(message): \(lines)")
        }
        #expect(lines.filter { $0.hasPrefix("debug notification sent ") }.count == 3, "\(lines)")
        #expect(lines.allSatisfy { $0.hasPrefix("debug ") || $0.hasPrefix("trace ") }, "\(lines)")
    }

    @Test("a sender error's description (an address, a URL with a token) reaches neither the stored error nor the logs")
    func senderErrorsStayOutOfStorageAndLogs() async throws {
        let clock = ManualWallClock(now: instant("2027-03-01T08:00:00Z"))
        let store = InMemoryStore()
        let service = BookingService(store: store, clock: clock)
        let slot = try #require(try await service.availability().first)
        _ = try await service.book(
            BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada", email: "ada@example.com"))
        let handler = CapturingLogHandler()
        let dispatcher = NotificationDispatcher(
            store: store, sender: ThrowingSender(error: LeakyMailerError()),
            configuration: .init(maxAttempts: 2), clock: clock, logger: Logger(label: "test", factory: { _ in handler })
        )

        #expect(try await dispatcher.drain().retried == 1)
        let retried = try #require(await store.notifications(appointmentID: nil).first)
        #expect(retried.lastError == "the sender failed: BookingDomainTests.LeakyMailerError")
        clock.advance(by: .seconds(10))
        #expect(try await dispatcher.drain().failed == 1)
        let failed = try #require(await store.notifications(appointmentID: nil).first)
        #expect(failed.status == .failed)
        #expect(failed.lastError == "the sender failed: BookingDomainTests.LeakyMailerError")

        let lines = handler.lines
        #expect(lines.contains { $0.contains("notification will be retried") })
        #expect(lines.contains { $0.contains("notification failed") && $0.contains("LeakyMailerError") })
        for text in lines + [retried.lastError ?? "", failed.lastError ?? ""] {
            #expect(!text.contains("john.doe"), "\(text)")
            #expect(!text.contains("@example.com"), "\(text)")
            #expect(!text.contains("token="), "\(text)")
            #expect(!text.contains("hooks.example"), "\(text)")
        }
    }

    @Test("a deliberate DeliveryFailure's reason is stored as written")
    func deliveryFailureReasonIsStored() async throws {
        let clock = ManualWallClock(now: instant("2027-03-01T08:00:00Z"))
        let store = try await bookedStore(1, clock: clock)
        let dispatcher = NotificationDispatcher(
            store: store, sender: RecordingNotificationSender { _, _ in .permanent("HTTP 410") }, clock: clock,
            logger: logger)
        #expect(try await dispatcher.drain().failed == 1)
        let notification = try #require(await store.notifications(appointmentID: nil).first)
        #expect(notification.status == .failed && notification.attempts == 1 && notification.lastError == "HTTP 410")
    }

    @Test(
        "the next attempt waits for max(backoff, Retry-After), with Retry-After capped at maxRetryAfter",
        arguments: [
            // (Retry-After seconds, expected earliest and latest wait in seconds); backoff is 30-60 s.
            (nil, 30, 60), (1, 30, 60), (600, 600, 600), (7 * 86_400, 86_400, 86_400),
        ] as [(Int?, Int, Int)])
    func retryAfter(seconds: Int?, earliest: Int, latest: Int) async throws {
        let now = instant("2027-03-01T08:00:00Z")
        let clock = ManualWallClock(now: now)
        let store = try await bookedStore(1, clock: clock)
        let sender = RecordingNotificationSender { _, _ in
            .transient("HTTP 429", retryAfter: seconds.map { .seconds($0) })
        }
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(backoff: Backoff(base: .seconds(60), cap: .seconds(60))), clock: clock,
            logger: logger)
        #expect(try await dispatcher.drain().retried == 1)
        let notification = try #require(await store.notifications(appointmentID: nil).first)
        let wait = notification.nextAttemptAt.timeIntervalSince(now)
        #expect(wait >= Double(earliest) && wait <= Double(latest), "waits \(wait) s")
        #expect(notification.status == .pending && notification.lastError == "HTTP 429")
    }

    @Test("backoff grows exponentially to its cap, with jitter between half and all of it")
    func backoff() {
        let backoff = Backoff(base: .seconds(2), cap: .seconds(3600))
        #expect(backoff.ceiling(afterAttempt: 1) == .seconds(2))
        #expect(backoff.ceiling(afterAttempt: 2) == .seconds(4))
        #expect(backoff.ceiling(afterAttempt: 10) == .seconds(1024))
        #expect(backoff.ceiling(afterAttempt: 50) == .seconds(3600))
        #expect(backoff.delay(afterAttempt: 3, unit: 0) == .seconds(4))
        #expect(backoff.delay(afterAttempt: 3, unit: 1) == .seconds(8))
    }
}

/// A sender that always throws `error`.
struct ThrowingSender: NotificationSender {
    let error: any Error

    func send(_ delivery: NotificationDelivery) async throws { throw error }
}

/// Runs a service and opens `gate` when its graceful shutdown begins: once the shutdown has reached the service's task,
/// as `Task.isShuttingDownGracefully` tells it.
struct OpensOnShutdown: Service {
    let service: any Service
    let gate: Gate

    init(_ service: any Service, gate: Gate) {
        self.service = service
        self.gate = gate
    }

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await service.run()
        } onGracefulShutdown: {
            gate.open()
        }
    }
}
