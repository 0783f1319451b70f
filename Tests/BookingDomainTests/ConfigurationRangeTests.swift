import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Logging
import ServiceLifecycle
import Testing

/// Configuration values at the ends of `Duration` and `Int` (`.seconds(Int64.max)` meaning "never", `Int.max` meaning
/// "no limit") and clocks far off are moved into range or refused, never a trap in the instants and timers they make.
@Suite("configuration values and clocks far out of range")
struct ConfigurationRangeTests {
    let logger = Logger(label: "range-tests", factory: { _ in SwiftLogNoOpLogHandler() })
    static let start = instant("2027-03-01T08:00:00Z")

    /// A store holding one booking's `booked` notification, due now.
    func bookedStore(clock: any WallClock) async throws -> InMemoryStore {
        let store = InMemoryStore()
        let service = BookingService(store: store, clock: clock)
        let slot = try #require(try await service.availability().first)
        _ = try await service.book(
            BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada", email: "ada@example.com"))
        return store
    }

    @Test("the dispatcher's durations and counts at their extremes are moved into range, the lease rules kept")
    func dispatcherConfiguration() {
        let huge = NotificationDispatcher.Configuration(
            batchSize: .max, concurrentSends: .max, leaseDuration: .seconds(Int64.max),
            sendTimeout: .seconds(Int64.max),
            heartbeatInterval: .seconds(Int64.max), leaseMargin: .seconds(Int64.max), pollInterval: .seconds(Int64.max),
            maxAttempts: .max, backoff: Backoff(base: .seconds(Int64.max), cap: .seconds(Int64.max)),
            maxRetryAfter: .seconds(Int64.max), coalescingDelay: .seconds(Int64.max))
        #expect(huge.batchSize == 10_000 && huge.concurrentSends == 10_000)
        #expect(huge.sendTimeout == .seconds(3600) && huge.leaseMargin == .seconds(60))
        #expect(huge.leaseDuration == .seconds(86_400) && huge.pollInterval == .seconds(3600))
        #expect(huge.heartbeatInterval == (huge.leaseDuration - huge.leaseMargin) / 2)
        #expect(huge.maxRetryAfter == .seconds(30 * 86_400) && huge.coalescingDelay == .seconds(1))
        #expect(huge.claimLimit == 10_000, "23 waves of 10,000 sends fit in the lease; the batch caps them")
        #expect(
            NotificationDispatcher.Configuration(
                batchSize: .max, concurrentSends: 2, leaseDuration: .seconds(Int64.max),
                sendTimeout: .seconds(Int64.max)
            )
            .claimLimit == 2 * 23, "waves of sends in one lease: (24 h - 2 s) / 1 h, rounded down")
        let tiny = NotificationDispatcher.Configuration(
            batchSize: .min, concurrentSends: .min, leaseDuration: .seconds(Int64.min),
            sendTimeout: .seconds(Int64.min),
            heartbeatInterval: .seconds(Int64.min), leaseMargin: .seconds(Int64.min), pollInterval: .seconds(Int64.min),
            maxAttempts: .min, maxRetryAfter: .seconds(Int64.min), coalescingDelay: .seconds(Int64.min))
        #expect(tiny.batchSize == 1 && tiny.concurrentSends == 1 && tiny.maxAttempts == 1)
        #expect(tiny.sendTimeout == .milliseconds(10) && tiny.pollInterval == .milliseconds(10))
        #expect(tiny.leaseDuration == .milliseconds(30) && tiny.maxRetryAfter == .zero && tiny.coalescingDelay == .zero)
    }

    @Test("backoff: a cap of .max waits at most 30 days, an attempt of Int.min is the first, a NaN unit the shortest")
    func backoff() {
        let endless = Backoff(base: .seconds(Int64.max), cap: .seconds(Int64.max))
        #expect(endless.ceiling(afterAttempt: 5) == Backoff.longestDelay)
        #expect(endless.delay(afterAttempt: .max, unit: 1) == Backoff.longestDelay)
        let plain = Backoff()
        #expect(plain.ceiling(afterAttempt: .min) == .seconds(2))
        #expect(plain.delay(afterAttempt: 1, unit: .nan) == .seconds(1))
        #expect(Backoff(base: .seconds(-5), cap: .seconds(-1)).ceiling(afterAttempt: 3) == .zero)
    }

    @Test("a receiver's Retry-After of forever, under a maxRetryAfter of .max, schedules the next try 30 days out")
    func retryAfterForever() async throws {
        let clock = ManualWallClock(now: Self.start)
        let store = try await bookedStore(clock: clock)
        let sender = RecordingNotificationSender { _, _ in .transient("HTTP 503", retryAfter: .seconds(Int64.max)) }
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(
                backoff: Backoff(base: .seconds(Int64.max), cap: .seconds(Int64.max)),
                maxRetryAfter: .seconds(Int64.max)),
            clock: clock, logger: logger)
        let report = try await dispatcher.deliverDue()
        #expect(report.retried == 1)
        let notification = try #require(await store.notifications(appointmentID: nil).first)
        #expect(notification.nextAttemptAt == Self.start.addingTimeInterval(30 * 86_400))
    }

    @Test("a dispatcher whose lease, send timeout and poll interval are .max delivers, and stops on shutdown")
    func dispatcherWithEndlessDurations() async throws {
        let clock = ManualWallClock(now: Self.start)
        let store = try await bookedStore(clock: clock)
        let sender = RecordingNotificationSender()
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(
                batchSize: .max, concurrentSends: .max, leaseDuration: .seconds(Int64.max),
                sendTimeout: .seconds(Int64.max),
                leaseMargin: .seconds(Int64.max), pollInterval: .seconds(Int64.max)),
            clock: clock, logger: logger)
        let group = ServiceGroup(services: [dispatcher], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for _ in 0..<1500 where sender.delivered.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            #expect(sender.delivered.count == 1)
            // The pass found nothing more and waits for a wake-up or the hour's poll: shutdown ends the wait.
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test(
        "a clock reading outside 0001-9999 (or NaN) is invalid input naming now at every service call, and changes nothing"
    )
    func clockFarOff() async throws {
        let clock = ManualWallClock(now: Self.start)
        let store = try await bookedStore(clock: clock)
        let service = BookingService(store: store, clock: clock)
        let booked = try #require(await store.appointments().first)
        let slot = try #require(try await service.availability().first)
        let dispatcher = NotificationDispatcher(
            store: store, sender: RecordingNotificationSender(), clock: clock, logger: logger)
        for reading in [1e300, -1e300, .infinity, .nan, 253_402_300_801] {
            clock.set(to: Date(timeIntervalSince1970: reading))
            let calls: [(String, () async throws -> Void)] = [
                ("availability", { _ = try await service.availability() }),
                (
                    "book",
                    {
                        _ = try await service.book(
                            BookingRequest(
                                slotStart: slot.start, slotEnd: slot.end, name: "Bo", email: "bo@example.com"))
                    }
                ),
                ("cancel", { _ = try await service.cancel(id: booked.id, authorization: .admin) }),
                ("hold", { _ = try await service.hold(HoldRequest(slotStart: slot.start, slotEnd: slot.end)) }),
                (
                    "reschedule",
                    {
                        _ = try await service.reschedule(
                            id: booked.id, to: try TimeSlot(start: slot.start, end: slot.end), authorization: .admin)
                    }
                ),
                ("retry", { _ = try await service.retryNotification(id: 1) }),
                ("deliverDue", { _ = try await dispatcher.deliverDue() }),
                ("releaseEarlierLeases", { _ = try await dispatcher.releaseEarlierLeases() }),
            ]
            for (name, call) in calls {
                let error = await #expect(throws: BookingError.self, "\(name) at \(reading)") { try await call() }
                #expect(error?.code == .invalidInput && error?.fieldErrors["now"] != nil, "\(name) at \(reading)")
            }
        }
        let appointments = await store.appointments()
        #expect(
            appointments.count == 1 && appointments.first?.status == .booked && appointments.first?.slot == booked.slot)
        let notifications = await store.notifications(appointmentID: nil)
        #expect(
            notifications.count == 1 && notifications.first?.status == .pending && notifications.first?.attempts == 0)
    }
}
