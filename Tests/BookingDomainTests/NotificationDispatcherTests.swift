import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Logging
import ServiceLifecycle
import Testing

@Suite("notification dispatcher as a service")
struct NotificationDispatcherTests {
    let logger = Logger(label: "dispatcher-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    func bookedStore(_ count: Int) async throws -> InMemoryStore {
        let store = InMemoryStore()
        let service = BookingService(store: store)
        let slots = try await service.availability()
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
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender, configuration: .init(pollInterval: .seconds(60)), logger: logger)
        let group = ServiceGroup(services: [dispatcher], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(200))  // the first pass finds nothing and waits
            let service = BookingService(store: store)
            let slot = try #require(try await service.availability().first)
            _ = try await service.book(
                BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada", email: "ada@example.com"))
            for _ in 0..<50 where sender.delivered.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            #expect(sender.delivered.count == 1)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test("graceful shutdown lets the in-flight send finish and releases unused leases without counting an attempt")
    func gracefulShutdown() async throws {
        let store = try await bookedStore(5)
        let sender = RecordingNotificationSender(delay: .milliseconds(400))
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender, configuration: .init(batchSize: 5, concurrentSends: 1), logger: logger)
        let group = ServiceGroup(services: [dispatcher], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for _ in 0..<100 where sender.calls.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
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
