import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Logging
import Synchronization
import TestSupport
import Testing

/// Hands the dispatcher the wake-up hints the test sends, and records the size of every claim.
final class HintedStore: ForwardingStore {
    let memory = InMemoryStore()
    private let hints = AsyncStream.makeStream(of: Void.self)
    private let claimSizes = Mutex<[Int]>([])

    /// How many notifications each claim took, in order.
    var claims: [Int] { claimSizes.withLock { $0 } }

    /// When each claim was asked for, in order (before any wait at ``laterClaims``).
    var claimsAsked: [ContinuousClock.Instant] { asked.withLock { $0 } }
    private let asked = Mutex<[ContinuousClock.Instant]>([])

    /// Every claim after the first waits here until the test opens it: a test starved for longer than the delay
    /// between its inserts still finds them all in the second claim.
    let laterClaims = Gate()

    /// Wakes the dispatcher, as a store does after a commit.
    func hint() { hints.continuation.yield() }

    func outboxWakeUps() -> AsyncStream<Void> { hints.stream }

    func claimNotifications(_ claim: NotificationClaim) async throws(BookingError) -> [BookingNotification] {
        asked.withLock { $0.append(.now) }
        if !claims.isEmpty { await laterClaims.passed() }
        let claimed = await memory.claimNotifications(claim)
        claimSizes.withLock { $0.append(claimed.count) }
        return claimed
    }

    func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
        -> [ClaimedNotification]
    {
        await pairedWithAppointments(try await claimNotifications(claim))
    }
}

@Suite("the dispatcher's coalescing delay")
struct CoalescingDelayTests {
    @Test("notifications committed within the delay after a wake-up go out in one pass, no sooner than the delay")
    func onePass() async throws {
        let store = HintedStore()
        let sender = RecordingNotificationSender()
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(pollInterval: .seconds(60), coalescingDelay: .seconds(1)),
            logger: Logger(label: "coalescing", factory: { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await dispatcher.run() }
        defer {
            store.laterClaims.open()
            running.cancel()
        }
        // The first pass runs at start, finds nothing, and waits for a wake-up.
        try await eventually { !store.claims.isEmpty }
        try #require(!store.claims.isEmpty, "the first pass never claimed")
        let base = Date().addingTimeInterval(3600)
        var woken: ContinuousClock.Instant?
        for index in 0..<3 {
            let start = base.addingTimeInterval(Double(index) * 1800)
            let slot = try TimeSlot(start: start, end: start.addingTimeInterval(1800))
            _ = try await store.insert(
                NewAppointment(
                    resource: .default, slot: slot, occupied: slot, customerName: "Ada",
                    customerEmail: "ada@example.com", note: nil, cancelTokenHash: String(repeating: "c", count: 64),
                    idempotencyKey: nil, requestFingerprint: "f", now: Date()))
            store.hint()
            woken = woken ?? .now
        }
        store.laterClaims.open()
        let deadline = ContinuousClock.now + .seconds(30)
        while sender.delivered.count < 3 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let firstSent = ContinuousClock.now
        #expect(sender.delivered.count == 3)
        #expect(store.claims.first == 0 && store.claims.dropFirst().first == 3, "claims: \(store.claims)")
        #expect(firstSent - (woken ?? firstSent) >= .seconds(1), "the pass waited out the delay")
        // The claim itself waited out the delay, before any wait the test put in its way.
        let secondAsked = store.claimsAsked.dropFirst().first
        #expect(secondAsked.map { $0 - (woken ?? $0) >= .seconds(1) } == true, "the claim came before the delay ended")
    }
}
