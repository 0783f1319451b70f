import BookingDomain
import Foundation
import Logging

extension CheckContext {
    func dispatcher(
        _ sender: any NotificationSender, batchSize: Int = 20, maxAttempts: Int = 10, worker: String = "conformance"
    ) -> NotificationDispatcher {
        NotificationDispatcher(
            store: store, sender: sender,
            configuration: .init(
                batchSize: batchSize, leaseDuration: .seconds(60), sendTimeout: .seconds(20), maxAttempts: maxAttempts),
            clock: clock, logger: Logger(label: "conformance", factory: { _ in SwiftLogNoOpLogHandler() }),
            workerID: worker)
    }

    func dispatcherDeliversEachNotificationOnce() async throws {
        let sender = RecordingNotificationSender()
        let booked = try await book(try draft(at: 60))
        _ = try await store.cancel(id: booked.id, now: now)
        let report = try await dispatcher(sender).drain()
        try expectEqual(report.sent, 2, "notifications sent")
        // Sends run concurrently, so the order of delivery is free; each kind arrives once.
        try expectEqual(
            sender.delivered.map(\.notification.kind.rawValue).sorted(), ["booked", "cancelled"], "delivered kinds")
        try expect(
            sender.delivered.allSatisfy { $0.appointment.status == .cancelled },
            "the appointment is re-read just before sending, so both deliveries see it cancelled")
        let stored = try await store.notifications(appointmentID: booked.id)
        try expect(
            stored.allSatisfy { $0.status == .sent && $0.sentAt == now && $0.attempts == 1 },
            "stored as sent once: \(stored)")
        try expectEqual(try await dispatcher(sender).drain().claimed, 0, "claims after everything was sent")
    }

    func dispatcherRetriesWithBackoff() async throws {
        let sender = RecordingNotificationSender { _, attempt in attempt < 3 ? .transient("HTTP 503") : nil }
        try await book(try draft(at: 60))
        let dispatcher = dispatcher(sender)
        let backoff = Backoff()
        for attempt in 1...2 {
            let before = clock.now()
            try expectEqual(try await dispatcher.deliverDue().retried, 1, "retries on attempt \(attempt)")
            let stored = try await store.notifications(appointmentID: nil)[0]
            let wait = stored.nextAttemptAt.timeIntervalSince(before)
            let ceiling = Double(backoff.ceiling(afterAttempt: attempt).components.seconds)
            try expect(
                wait >= ceiling / 2 && wait <= ceiling,
                "wait after attempt \(attempt) is \(wait) s, outside \(ceiling / 2)...\(ceiling)")
            try expectEqual(stored.lastError, "HTTP 503", "last error")
            try expectEqual(try await dispatcher.deliverDue().claimed, 0, "claims before the retry is due")
            clock.set(to: stored.nextAttemptAt)
        }
        try expectEqual(try await dispatcher.deliverDue().sent, 1, "sent on the third attempt")
        let stored = try await store.notifications(appointmentID: nil)[0]
        try expectEqual(stored.status, .sent, "status")
        try expectEqual(stored.attempts, 3, "attempts")
        try expectEqual(sender.calls[stored.id], 3, "sender calls")
    }

    func dispatcherFailsPermanentErrorsAtOnce() async throws {
        let sender = RecordingNotificationSender { _, _ in .permanent("HTTP 410 Gone") }
        try await book(try draft(at: 60))
        try expectEqual(try await dispatcher(sender).drain().failed, 1, "failed")
        let stored = try await store.notifications(appointmentID: nil)[0]
        try expectEqual(stored.status, .failed, "status")
        try expectEqual(stored.attempts, 1, "attempts")
        try expectEqual(stored.lastError, "HTTP 410 Gone", "last error")
        let exhausted = RecordingNotificationSender { _, _ in .transient("timeout") }
        try await book(try draft(at: 120))
        let limited = dispatcher(exhausted, maxAttempts: 1)
        try expectEqual(try await limited.drain().failed, 1, "failed once attempts run out")
    }

    func dispatcherRecoversFromACrash() async throws {
        try await book(try draft(at: 60))
        // The crashed dispatcher claimed and never finished.
        let dead = try await claim("dead-worker/claim-1", leaseSeconds: 60)
        try expectEqual(dead.count, 1, "claimed by the dying dispatcher")
        let sender = RecordingNotificationSender()
        let survivor = dispatcher(sender, worker: "survivor")
        try expectEqual(try await survivor.deliverDue().claimed, 0, "claims while the dead lease holds")
        clock.advance(by: .seconds(60))
        try expectEqual(try await survivor.deliverDue().sent, 1, "delivered after the lease lapsed")
        let late = try await store.finish(
            notification: dead[0].id, owner: "dead-worker/claim-1", outcome: .failed(error: "late", now: clock.now()))
        try expect(!late, "the dead dispatcher's late finish must be refused")
        let stored = try await store.notifications(appointmentID: nil)[0]
        try expectEqual(stored.status, .sent, "status after the late finish")
        try expectEqual(stored.attempts, 2, "attempts (the crashed one counts)")
    }

    func concurrentDispatchersNeverOverlap() async throws {
        let total = 1000
        for index in 0..<total {
            try await book(try draft(try ResourceID.parse("r\(index % 20)"), at: 30 * (index / 20 + 1)))
        }
        let sender = RecordingNotificationSender(delay: .milliseconds(1))
        let dispatchers = (0..<4).map { dispatcher(sender, batchSize: 25, worker: "d\($0)") }
        let reports = await concurrently(4) { index in (try? await dispatchers[index].drain()) ?? .init() }
        try expectEqual(reports.map(\.sent).reduce(0, +), total, "sent by four dispatchers")
        try expectEqual(Set(sender.delivered.map(\.notification.id)).count, total, "distinct notifications delivered")
        try expectEqual(sender.overlappingDeliveries, [], "notifications delivered twice at once")
        try expectEqual(sender.calls.values.filter { $0 > 1 }.count, 0, "notifications sent more than once")
        let stored = try await store.notifications(appointmentID: nil)
        try expect(stored.allSatisfy { $0.status == .sent }, "every notification stored as sent")
    }
}
