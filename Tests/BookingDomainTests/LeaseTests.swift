import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

@Suite("notification leases: claim size, the check before a send, the heartbeat, restarts")
struct LeaseTests {
    let logger = Logger(label: "lease-tests", factory: { _ in SwiftLogNoOpLogHandler() })
    let start = instant("2027-03-01T08:00:00Z")

    /// A store with `count` booked appointments, each with its pending `booked` notification.
    func bookedStore(_ count: Int, clock: any WallClock) async throws -> InMemoryStore {
        let store = InMemoryStore()
        let service = BookingService(store: store, clock: clock)
        // Not the first slot: it may start while a busy machine stalls this task between reading and booking it.
        for slot in try await service.availability().dropFirst().prefix(count) {
            _ = try await service.book(
                BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada", email: "ada@example.com"))
        }
        return store
    }

    @Test("the defaults keep lease > send timeout + margin, renew three times a lease, and claim one wave")
    func defaults() {
        let configuration = NotificationDispatcher.Configuration()
        #expect(configuration.leaseDuration == .seconds(15))
        #expect(configuration.sendTimeout == .seconds(10))
        #expect(configuration.heartbeatInterval == .seconds(5))
        #expect(configuration.leaseMargin == .seconds(2))
        #expect(configuration.leaseDuration >= configuration.sendTimeout + configuration.leaseMargin * 2)
        // Crash recovery without a restart under the same id: one lease plus one poll, well inside 20 s.
        #expect(configuration.leaseDuration + configuration.pollInterval <= .seconds(17))
        #expect(configuration.claimLimit == 4)
    }

    @Test(
        "a pass claims only what can be sent within one lease",
        arguments: [
            // (batch size, concurrent sends, lease s, send timeout s, expected claim limit)
            (20, 4, 15, 10, 4), (20, 4, 60, 10, 20), (20, 2, 60, 20, 4), (3, 4, 60, 10, 3), (20, 1, 15, 10, 1),
        ] as [(Int, Int, Int, Int, Int)])
    func claimLimit(batchSize: Int, concurrentSends: Int, lease: Int, timeout: Int, expected: Int) async throws {
        let configuration = NotificationDispatcher.Configuration(
            batchSize: batchSize, concurrentSends: concurrentSends, leaseDuration: .seconds(lease),
            sendTimeout: .seconds(timeout))
        #expect(configuration.claimLimit == expected)
        let clock = ManualWallClock(now: start)
        let store = try await bookedStore(25, clock: clock)
        let dispatcher = NotificationDispatcher(
            store: store, sender: RecordingNotificationSender(), configuration: configuration, clock: clock,
            logger: logger)
        #expect(try await dispatcher.deliverDue().claimed == expected)
    }

    @Test(
        "a configuration that breaks the lease rules is adjusted: the lease outlasts a send, the heartbeat beats twice; the coalescing delay stays within 0 ... 1 s"
    )
    func normalization() {
        let configuration = NotificationDispatcher.Configuration(
            leaseDuration: .seconds(5), sendTimeout: .seconds(10), heartbeatInterval: .seconds(30),
            leaseMargin: .seconds(1))
        #expect(configuration.leaseDuration == .seconds(12))
        #expect(configuration.heartbeatInterval == .milliseconds(5500))
        #expect(NotificationDispatcher.Configuration(coalescingDelay: .seconds(-1)).coalescingDelay == .zero)
        #expect(NotificationDispatcher.Configuration(coalescingDelay: .seconds(30)).coalescingDelay == .seconds(1))
    }

    @Test(
        "a send with no answer is cancelled at its send timeout, each at its own deadline, even with a slower heartbeat: a transient failure",
        .timeLimit(.minutes(2)), arguments: [1, 3])
    func sendTimeout(notifications: Int) async throws {
        let store = try await bookedStore(notifications, clock: SystemWallClock())
        // Would wait 60 s: only the send timeout ends it, and it then throws, as a sender honouring cancellation does.
        let sender = HangingSender()
        // One send at a time: each later send starts after the earlier one timed out, with a deadline of its own.
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(
                concurrentSends: 1, leaseDuration: .seconds(60), sendTimeout: .seconds(10),
                heartbeatInterval: .seconds(25)),
            logger: logger)
        let report = try await dispatcher.deliverDue()
        #expect(report.retried == notifications && report.sent == 0)
        // Each send ran until its own deadline: not before it, and not a whole timeout after it (the slack is for a
        // busy machine, where a wake-up came seconds late; a watch that woke one timeout late would take 20 s or more).
        // The deadline starts a moment before the sender reads its clock, so the lower bound leaves that moment room.
        let durations = sender.cancelledAfter.withLock { $0 }
        #expect(durations.count == notifications)
        #expect(durations.allSatisfy { $0 >= .milliseconds(9500) && $0 < .seconds(19) }, "\(durations)")
        let stored = await store.notifications(appointmentID: nil)
        #expect(
            stored.allSatisfy { $0.attempts == 1 && $0.lastError == "the sender did not answer within 10.0 seconds" },
            "\(stored.map { $0.lastError ?? "-" })")
    }

    @Test(
        "a cancelled pass cancels its sends in flight, returns once they have answered, and releases them unsent",
        .timeLimit(.minutes(1)))
    func cancelledPass() async throws {
        let store = try await bookedStore(3, clock: SystemWallClock())
        let sender = HangingSender()
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(concurrentSends: 3, leaseDuration: .seconds(60), sendTimeout: .seconds(30)),
            logger: logger)
        let pass = Task { try await dispatcher.deliverDue() }
        // The sends have started (they hang for 60 s, twice their timeout) when the pass is cancelled.
        while sender.started.withLock({ $0 }) < 3 { try await Task.sleep(for: .milliseconds(10)) }
        pass.cancel()
        let report = try await pass.value
        #expect(report.claimed == 3 && report.released == 3)
        let durations = sender.cancelledAfter.withLock { $0 }
        // Well before the 30 s send timeout, the other way these sends could end.
        #expect(durations.count == 3 && durations.allSatisfy { $0 < .seconds(20) }, "\(durations)")
        // Released unsent: due again, no attempt counted, no error.
        let stored = await store.notifications(appointmentID: nil)
        #expect(
            stored.allSatisfy {
                $0.status == .pending && $0.attempts == 0 && $0.leaseOwner == nil && $0.lastError == nil
            },
            "\(stored)")
    }

    @Test("a lease worn down while its send waited for an earlier one is renewed before the send, and it is sent")
    func wornDownLeaseRenewed() async throws {
        let clock = ManualWallClock(now: start)
        let store = try await bookedStore(2, clock: clock)
        // 1 h leases, a 10 s send timeout, one send at a time: a pass claims both; the first send takes 3,589 s of the
        // test's clock, leaving 11 s of the second's lease: more than the send timeout, less than it and the 2 s
        // margin. The heartbeat sleeps in real time; at 1,799 s ((3,600 − 2) / 2, as normalized) it cannot beat
        // within the test, so only the renewal before the send can make up the lease.
        let sender = RecordingNotificationSender(whileSending: { _, _ in clock.advance(by: .seconds(3589)) })
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(
                concurrentSends: 1, leaseDuration: .seconds(3600), sendTimeout: .seconds(10),
                heartbeatInterval: .seconds(1800)),
            clock: clock, logger: logger)
        let report = try await dispatcher.deliverDue()
        #expect(report.claimed == 2 && report.sent == 2 && report.released == 0)
        #expect(sender.calls.count == 2)
        let notifications = await store.notifications(appointmentID: nil)
        #expect(notifications.allSatisfy { $0.status == .sent && $0.attempts == 1 }, "\(notifications)")
    }

    @Test(
        "a database taking seconds a statement: a lease worn down by the claim and the re-read is renewed and the notification sent; one the renewal cannot make up for is released unsent, without an attempt",
        arguments: [(300, true), (700, false)])
    func slowDatabase(secondsPerStatement: Int, sent: Bool) async throws {
        let clock = ManualWallClock(now: start)
        let inner = try await bookedStore(1, clock: clock)
        let store = SlowStore(inner: inner, clock: clock, latency: .seconds(secondsPerStatement))
        // 1 h leases, a send needs 3,002 s of it (the 3,000 s timeout and the 2 s margin). The claim and the
        // appointment's re-read (the claim's read is more than a second old) each take the test's clock on: at 300 s
        // a statement 3,000 s of the lease are left, and the renewal, itself 300 s, leaves 3,300; at 700 s a
        // statement the renewal leaves 2,900, too little.
        let recording = RecordingNotificationSender()
        let dispatcher = NotificationDispatcher(
            store: store, sender: recording,
            configuration: .init(
                leaseDuration: .seconds(3600), sendTimeout: .seconds(3000), heartbeatInterval: .seconds(1800)),
            clock: clock, logger: logger)
        let report = try await dispatcher.deliverDue()
        let notification = try #require(await inner.notifications(appointmentID: nil).first)
        if sent {
            #expect(report.sent == 1 && report.released == 0)
            #expect(recording.calls.count == 1 && notification.status == .sent)
        } else {
            #expect(report.sent == 0 && report.released == 1)
            #expect(recording.calls.isEmpty)
            #expect(
                notification.status == .pending && notification.attempts == 0 && notification.leaseOwner == nil
                    && notification.leaseExpiresAt == nil)
        }
    }

    @Test("a lease taken over while its send waited for an earlier one: not sent, and the new owner keeps it")
    func takenOverBeforeItsSend() async throws {
        let clock = ManualWallClock(now: start)
        let store = try await bookedStore(2, clock: clock)
        // One send at a time; the first outlasts both 1 h leases, and meanwhile another worker claims both.
        let sender = RecordingNotificationSender(whileSending: { _, _ in
            clock.advance(by: .seconds(3601))
            let now = clock.now()
            _ = await store.claimNotifications(
                NotificationClaim(owner: "thief/1", limit: 2, now: now, leaseExpiresAt: now.addingTimeInterval(3600)))
        })
        let handler = CapturingLogHandler()
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(
                concurrentSends: 1, leaseDuration: .seconds(3600), sendTimeout: .seconds(10),
                heartbeatInterval: .seconds(1800)),
            clock: clock, logger: Logger(label: "test", factory: { _ in handler }))
        let report = try await dispatcher.deliverDue()
        #expect(report.claimed == 2 && report.sent == 0 && report.lostLeases == 2 && report.released == 0)
        #expect(sender.calls.count == 1, "the second was sent after its lease was taken over")
        // Its renewal before the send was refused (not a release its owner could no longer make).
        #expect(handler.lines.contains { $0.contains("lease was taken over before its send began") })
        let notifications = await store.notifications(appointmentID: nil)
        #expect(
            notifications.allSatisfy { $0.status == .pending && $0.leaseOwner == "thief/1" && $0.attempts == 2 },
            "\(notifications)")
    }

    @Test("a send whose lease was taken over is cancelled, not recorded as its owner's, and logged")
    func takenOverDuringASend() async throws {
        let clock = ManualWallClock(now: start)
        let store = try await bookedStore(1, clock: clock)
        let cancelled = Mutex(false)
        // The send outlives its lease: another worker claims the notification 61 s on, then the clock gets there. In
        // this order a heartbeat beating in between renews nothing the thief could not take (before its claim, to 60 s
        // from the start; after it, refused).
        let sender = RecordingNotificationSender(whileSending: { delivery, _ in
            let later = clock.now().addingTimeInterval(61)
            _ = await store.claimNotifications(
                NotificationClaim(
                    owner: "thief/1", limit: 1, now: later, leaseExpiresAt: later.addingTimeInterval(60)))
            clock.advance(by: .seconds(61))
            // Ended by the refused renewal (a 20 ms heartbeat), however late a busy machine lets it beat: the send's
            // 55 s timeout would cancel it too, but only after the 50 s this sleeps.
            do {
                try await Task.sleep(for: .seconds(50))
            } catch {
                cancelled.withLock { $0 = true }
            }
        })
        let handler = CapturingLogHandler()
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(
                leaseDuration: .seconds(60), sendTimeout: .seconds(55), heartbeatInterval: .milliseconds(20)),
            clock: clock, logger: Logger(label: "test", factory: { _ in handler }))
        let report = try await dispatcher.deliverDue()
        #expect(report.lostLeases == 1 && report.sent == 0 && report.retried == 0)
        #expect(cancelled.withLock { $0 }, "the send was cancelled once the renewal was refused")
        let notification = try #require(await store.notifications(appointmentID: nil).first)
        #expect(notification.status == .pending && notification.leaseOwner == "thief/1" && notification.attempts == 2)
        #expect(handler.lines.contains { $0.contains("lease was taken over during a send") })
    }

    @Test("two dispatchers, 8 s leases, sends of 12 s: the heartbeat keeps each lease, so each is sent once")
    func heartbeatKeepsSlowSends() async throws {
        let store = try await bookedStore(4, clock: SystemWallClock())
        // Ignores cancellation and answers after 12 s: longer than the lease and than the send timeout. The lease
        // leaves 7.4 s between heartbeats and its end, and a send may start up to 5.9 s after its claim: room for a
        // machine busy with other suites. (On CI at 3 s leases and 4.5 s sends, nothing was sent within the 30 s
        // wait: each claim's send started more than 0.9 s after it and was released unsent.)
        let sender = RecordingNotificationSender(whileSending: { _, _ in
            await Task { try? await Task.sleep(for: .seconds(12)) }.value
        })
        let configuration = NotificationDispatcher.Configuration(
            concurrentSends: 4, leaseDuration: .seconds(8), sendTimeout: .milliseconds(1500),
            heartbeatInterval: .milliseconds(600), leaseMargin: .milliseconds(600), pollInterval: .milliseconds(50))
        let dispatchers = ["one", "two"].map { id in
            NotificationDispatcher(
                store: store, sender: sender, configuration: configuration, logger: logger, workerID: id)
        }
        let group = ServiceGroup(services: dispatchers, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await eventually {
                await store.notifications(appointmentID: nil).allSatisfy { $0.status == .sent }
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let notifications = await store.notifications(appointmentID: nil)
        #expect(notifications.count == 4)
        #expect(notifications.allSatisfy { $0.status == .sent && $0.attempts == 1 }, "\(notifications)")
        #expect(sender.overlappingDeliveries == [], "sent by both dispatchers at once")
        #expect(sender.calls.count == 4 && sender.calls.values.allSatisfy { $0 == 1 }, "\(sender.calls)")
    }

    @Test("a dispatcher restarted with the same id sends what its dead predecessor had claimed, without waiting")
    func restartTakesBackLeases() async throws {
        let clock = ManualWallClock(now: start)
        let store = try await bookedStore(3, clock: clock)
        // The killed run of "booking-1" held two for 60 s; "booking-10" (another, live instance) holds one.
        let now = clock.now()
        let lease = now.addingTimeInterval(60)
        _ = await store.claimNotifications(
            NotificationClaim(owner: "booking-1/run-1", limit: 2, now: now, leaseExpiresAt: lease))
        _ = await store.claimNotifications(
            NotificationClaim(owner: "booking-10/run-1", limit: 1, now: now, leaseExpiresAt: lease))
        let sender = RecordingNotificationSender()
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender, clock: clock, logger: logger, workerID: "booking-1")
        let group = ServiceGroup(services: [dispatcher], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await eventually { sender.delivered.count >= 2 }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let notifications = await store.notifications(appointmentID: nil)
        #expect(notifications.filter { $0.status == .sent }.count == 2, "the clock never moved: no lease lapsed")
        let other = try #require(notifications.first { $0.status == .pending })
        #expect(other.leaseOwner == "booking-10/run-1" && other.leaseExpiresAt == lease)
    }

    @Test("a worker id with a slash cannot reach another identity's leases: / and % are encoded in lease owners")
    func workerIDsAreEncoded() async throws {
        let clock = ManualWallClock(now: start)
        let store = try await bookedStore(1, clock: clock)
        let owners = Mutex<[String]>([])
        let released = Mutex<[Int]>([])
        let outer = NotificationDispatcher(
            store: store, sender: RecordingNotificationSender(), clock: clock, logger: logger, workerID: "a")
        // While "a/b%" sends, a restarted "a" must not take its lease.
        let sender = RecordingNotificationSender(whileSending: { delivery, _ in
            let owner = await store.notifications(appointmentID: nil).first?.leaseOwner ?? ""
            owners.withLock { $0.append(owner) }
            let count = (try? await outer.releaseEarlierLeases()) ?? -1
            released.withLock { $0.append(count) }
        })
        let inner = NotificationDispatcher(
            store: store, sender: sender, clock: clock, logger: logger, workerID: "a/b%")
        #expect(try await inner.deliverDue().sent == 1)
        #expect(owners.withLock { $0.allSatisfy { $0.hasPrefix("a%2Fb%25/") } }, "\(owners.withLock { $0 })")
        #expect(released.withLock { $0 } == [0])
    }
}

/// A sender that waits a minute for an answer that never comes, and throws once cancelled, recording how long
/// each send ran.
final class HangingSender: NotificationSender {
    /// How long each cancelled send had run.
    let cancelledAfter = Mutex<[Duration]>([])
    /// How many sends have started.
    let started = Mutex(0)

    func send(_ delivery: NotificationDelivery) async throws {
        self.started.withLock { $0 += 1 }
        let started = ContinuousClock.now
        do {
            try await Task.sleep(for: .seconds(60))
        } catch {
            cancelledAfter.withLock { $0.append(ContinuousClock.now - started) }
            throw error
        }
    }
}
