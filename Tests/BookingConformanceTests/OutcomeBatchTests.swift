import BookingConformance
import BookingTesting
import Foundation
import InMemoryStore
import Logging
import Synchronization
import TestSupport
import Testing

@testable import BookingDomain

/// Counts the calls that record outcomes together, and how many outcomes each carried. Each call first waits
/// for `beforeCall` (given the call's index from 0); the first then fails if `failFirst`.
final class OutcomeCountingStore: ForwardingStore {
    let memory = InMemoryStore()
    private let sizes = Mutex<[Int]>([])
    private let beforeCall: @Sendable (Int) async -> Void
    private let failFirst: Bool

    init(failFirst: Bool = false, beforeCall: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.failFirst = failFirst
        self.beforeCall = beforeCall
    }

    /// How many outcomes each call carried, in the order of the calls.
    var batchSizes: [Int] { sizes.withLock { $0 } }

    func finish(outcomes: [Int64: DeliveryOutcome], owner: String) async throws(BookingError) -> Set<Int64> {
        let index = sizes.withLock { sizes in
            sizes.append(outcomes.count)
            return sizes.count - 1
        }
        await beforeCall(index)
        if index == 0 && failFirst { throw BookingError.storeUnavailable("the test's outage") }
        return try await memory.finish(outcomes: outcomes, owner: owner)
    }
}

/// Refuses to start recording outcomes for a cancelled task, as GRDB's and PostgresNIO's async calls do.
struct CancellationRefusingStore: ForwardingStore {
    let memory = InMemoryStore()

    func finish(outcomes: [Int64: DeliveryOutcome], owner: String) async throws(BookingError) -> Set<Int64> {
        if Task.isCancelled { throw BookingError.storeUnavailable("the task was cancelled") }
        return try await memory.finish(outcomes: outcomes, owner: owner)
    }
}

@Suite("the dispatcher records the outcomes of sends that end together in one call")
struct OutcomeBatchTests {
    let logger = Logger(label: "outcome-batch-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Books `count` appointments, one `booked` notification each.
    func book(_ count: Int, in store: any BookingStore) async throws {
        let service = BookingService(store: store)
        // Not the first slot: it may start while a busy machine stalls this task between reading and booking it.
        for slot in try await service.availability().dropFirst().prefix(count) {
            _ = try await service.book(
                BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada", email: "ada@example.com"))
        }
    }

    /// Ten-minute leases: a test run that starves this task for seconds (the whole suite on two cores) must not
    /// find a lease too short to start a send, which would release it unsent.
    static func configuration(concurrentSends: Int) -> NotificationDispatcher.Configuration {
        NotificationDispatcher.Configuration(concurrentSends: concurrentSends, leaseDuration: .seconds(600))
    }

    /// Waits (at most 60 s) until `sender` has delivered `count`, then ten seconds more: the few steps between
    /// a send's return and its outcome's arrival at the recorder are done by then even on a machine starved for
    /// seconds (a margin for an event to happen, never a measure of speed).
    static func waitUntil(_ sender: RecordingNotificationSender, delivered count: Int) async {
        let deadline = ContinuousClock.now + .seconds(60)
        while sender.delivered.count < count && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        try? await Task.sleep(for: .seconds(10))
    }

    @Test("outcomes of sends cancelled at their timeout are recorded even by a store that refuses cancelled tasks")
    func timedOutSendsOnACancellationRefusingStore() async throws {
        let check = try #require(ConformanceCheck.named("timedOutSendsAreRecorded"))
        try await BookingConformance { StoreUnderTest(store: CancellationRefusingStore()) }.run(check)
    }

    @Test("four sends ending while the first outcome is being recorded cost two calls, not four")
    func sendsEndingTogether() async throws {
        let sender = RecordingNotificationSender()
        // The first call is held until every send has ended, so the other three wait for it together.
        let store = OutcomeCountingStore { index in if index == 0 { await Self.waitUntil(sender, delivered: 4) } }
        try await book(4, in: store)
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender, configuration: Self.configuration(concurrentSends: 4), logger: logger)
        let report = try await dispatcher.deliverDue()
        #expect(report.claimed == 4)
        #expect(report.sent == 4)
        #expect(store.batchSizes.count <= 2, "calls: \(store.batchSizes)")
        #expect(store.batchSizes.reduce(0, +) == 4, "calls: \(store.batchSizes)")
        let stored = await store.memory.notifications(appointmentID: nil)
        #expect(stored.map(\.status) == Array(repeating: .sent, count: 4))
    }

    @Test("a send that ends alone is recorded alone, without waiting for others")
    func sendsEndingApart() async throws {
        let store = OutcomeCountingStore()
        try await book(3, in: store)
        let dispatcher = NotificationDispatcher(
            store: store, sender: RecordingNotificationSender(),
            configuration: Self.configuration(concurrentSends: 1), logger: logger)
        let report = try await dispatcher.deliverDue()
        #expect(report.claimed == 3, "one pass, sends one after another")
        #expect(report.sent == 3)
        #expect(store.batchSizes == [1, 1, 1])
    }

    @Test("an outcome that made a call returns with its answer while the call it handed to a waiting outcome runs")
    func handOff() async throws {
        // Gates the calls wait at: the first call, then every later one.
        let firstCall = Gate()
        let laterCalls = Gate()
        let store = OutcomeCountingStore { index in await (index == 0 ? firstCall : laterCalls).passed() }
        try await book(3, in: store)
        let owner = "w/1"
        let leased = await store.memory.claimNotifications(
            NotificationClaim(owner: owner, limit: 3, now: Date(), leaseExpiresAt: Date().addingTimeInterval(600)))
        try #require(leased.count == 3)
        let recorder = OutcomeRecorder(store: store, owner: owner)
        let first = Task { try await recorder.record(.sent(at: Date()), of: leased[0].id) }
        // The first call is held open; the other two outcomes arrive meanwhile and wait for it.
        for _ in 0..<6000 where store.batchSizes.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        let others = [leased[1], leased[2]].map { notification in
            Task { try await recorder.record(.sent(at: Date()), of: notification.id) }
        }
        try await Task.sleep(for: .milliseconds(300))
        firstCall.open()
        // The first outcome's caller answers without waiting for the next call, still held open.
        let answered = await withTaskGroup(of: Bool?.self) { group in
            group.addTask { try? await first.value }
            group.addTask {
                try? await Task.sleep(for: .seconds(60))
                laterCalls.open()  // so that a caller stuck in the next call ends, and the test with it
                return nil
            }
            let answer = await group.next() ?? nil
            group.cancelAll()
            return answer
        }
        #expect(answered == true, "the first outcome's caller waited for the call it handed over")
        laterCalls.open()
        for task in others { #expect(try await task.value) }
        #expect(store.batchSizes.reduce(0, +) == 3, "calls: \(store.batchSizes)")
        let stored = await store.memory.notifications(appointmentID: nil)
        #expect(stored.allSatisfy { $0.status == .sent })
    }

    @Test("a call that fails loses the leases of every outcome it carried and records none of them")
    func failedCall() async throws {
        let sender = RecordingNotificationSender()
        let store = OutcomeCountingStore(failFirst: true) { index in
            if index == 0 { await Self.waitUntil(sender, delivered: 4) }
        }
        try await book(4, in: store)
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender, configuration: Self.configuration(concurrentSends: 4), logger: logger)
        let report = try await dispatcher.deliverDue()
        let failed = try #require(store.batchSizes.first)
        #expect(report.lostLeases == failed)
        #expect(report.sent == 4 - failed)
        let stored = await store.memory.notifications(appointmentID: nil)
        #expect(stored.filter { $0.status == .sent }.count == 4 - failed)
        // Unrecorded: still pending and leased, so they are claimed again once the lease lapses.
        #expect(stored.filter { $0.status == .pending && $0.leaseOwner != nil }.count == failed)
    }
}
