import BookingDomain
import BookingTesting
import Foundation

extension ConformanceCheck {
    /// The notification dispatcher running on the store: delivery, backoff, failures, crashes, concurrency.
    static let dispatcherChecks: [ConformanceCheck] = [
        ConformanceCheck(
            "dispatcherDeliversEachNotificationOnce",
            "A dispatcher delivers the booked and the cancelled notification once each and marks them sent."
        ) { context in
            let sender = RecordingNotificationSender()
            let booked = try await context.book(try context.draft(at: 60))
            _ = try await context.store.cancel(id: booked.id, now: context.now)
            let report = try await context.dispatcher(sender).drain()
            try context.expectEqual(report.sent, 2, "notifications sent")
            // Sends run context.concurrently, so the order of delivery is free; each kind arrives once.
            try context.expectEqual(
                sender.delivered.map(\.notification.kind.rawValue).sorted(), ["booked", "cancelled"], "delivered kinds")
            try context.expect(
                sender.delivered.allSatisfy { $0.appointment.status == .cancelled },
                "the appointment is re-read just before sending, so both deliveries see it cancelled")
            let stored = try await context.store.notifications(appointmentID: booked.id)
            try context.expect(
                stored.allSatisfy { $0.status == .sent && $0.sentAt == context.now && $0.attempts == 1 },
                "stored as sent once: \(stored)")
            try context.expectEqual(
                try await context.dispatcher(sender).drain().claimed, 0, "claims after everything was sent")
        },
        ConformanceCheck(
            "dispatcherRetriesWithBackoff",
            "A sender that fails twice then succeeds: delivered on attempt 3, waits following the backoff."
        ) { context in
            let sender = RecordingNotificationSender { _, attempt in attempt < 3 ? .transient("HTTP 503") : nil }
            try await context.book(try context.draft(at: 60))
            let dispatcher = context.dispatcher(sender)
            let backoff = Backoff()
            for attempt in 1...2 {
                let before = context.clock.now()
                try context.expectEqual(try await dispatcher.deliverDue().retried, 1, "retries on attempt \(attempt)")
                let stored = try await context.store.notifications(appointmentID: nil)[0]
                let wait = stored.nextAttemptAt.timeIntervalSince(before)
                let ceiling = Double(backoff.ceiling(afterAttempt: attempt).components.seconds)
                try context.expect(
                    wait >= ceiling / 2 && wait <= ceiling,
                    "wait after attempt \(attempt) is \(wait) s, outside \(ceiling / 2)...\(ceiling)")
                try context.expectEqual(stored.lastError, "HTTP 503", "last error")
                try context.expectEqual(try await dispatcher.deliverDue().claimed, 0, "claims before the retry is due")
                context.clock.set(to: stored.nextAttemptAt)
            }
            try context.expectEqual(try await dispatcher.deliverDue().sent, 1, "sent on the third attempt")
            let stored = try await context.store.notifications(appointmentID: nil)[0]
            try context.expectEqual(stored.status, .sent, "status")
            try context.expectEqual(stored.attempts, 3, "attempts")
            try context.expectEqual(sender.calls[stored.id], 3, "sender calls")
        },
        ConformanceCheck(
            "dispatcherFailsPermanentErrorsAtOnce",
            "A permanent failure marks the notification failed after one attempt, with the error text."
        ) { context in
            let sender = RecordingNotificationSender { _, _ in .permanent("HTTP 410 Gone") }
            try await context.book(try context.draft(at: 60))
            try context.expectEqual(try await context.dispatcher(sender).drain().failed, 1, "failed")
            let stored = try await context.store.notifications(appointmentID: nil)[0]
            try context.expectEqual(stored.status, .failed, "status")
            try context.expectEqual(stored.attempts, 1, "attempts")
            try context.expectEqual(stored.lastError, "HTTP 410 Gone", "last error")
            let exhausted = RecordingNotificationSender { _, _ in .transient("timeout") }
            try await context.book(try context.draft(at: 120))
            let limited = context.dispatcher(exhausted, maxAttempts: 1)
            try context.expectEqual(try await limited.drain().failed, 1, "failed once attempts run out")
        },
        ConformanceCheck(
            "dispatcherRecoversFromACrash",
            "A dispatcher that dies mid-send: after the lease lapses another delivers, and the dead one's late finish is refused."
        ) { context in
            try await context.book(try context.draft(at: 60))
            // The crashed context.dispatcher claimed and never finished.
            let dead = try await context.claim("dead-worker/context.claim-1", leaseSeconds: 60)
            try context.expectEqual(dead.count, 1, "claimed by the dying dispatcher")
            let sender = RecordingNotificationSender()
            let survivor = context.dispatcher(sender, worker: "survivor")
            try context.expectEqual(try await survivor.deliverDue().claimed, 0, "claims while the dead lease holds")
            context.clock.advance(by: .seconds(60))
            try context.expectEqual(try await survivor.deliverDue().sent, 1, "delivered after the lease lapsed")
            let late = try await context.store.finish(
                notification: dead[0].id, owner: "dead-worker/context.claim-1",
                outcome: .failed(error: "late", now: context.clock.now()))
            try context.expect(!late, "the dead context.dispatcher's late finish must be refused")
            let stored = try await context.store.notifications(appointmentID: nil)[0]
            try context.expectEqual(stored.status, .sent, "status after the late finish")
            try context.expectEqual(stored.attempts, 2, "attempts (the crashed one counts)")
        },
        ConformanceCheck(
            "concurrentDispatchersNeverOverlap",
            "Four dispatchers and 1,000 bookings: every notification delivered, none twice at the same time."
        ) { context in
            let total = 1000
            for index in 0..<total {
                try await context.book(
                    try context.draft(try ResourceID.parse("r\(index % 20)"), at: 30 * (index / 20 + 1)))
            }
            let sender = RecordingNotificationSender(delay: .milliseconds(1))
            let dispatchers = (0..<4).map { context.dispatcher(sender, batchSize: 25, worker: "d\($0)") }
            let reports = await context.concurrently(4) { index in (try? await dispatchers[index].drain()) ?? .init() }
            try context.expectEqual(reports.map(\.sent).reduce(0, +), total, "sent by four dispatchers")
            try context.expectEqual(
                Set(sender.delivered.map(\.notification.id)).count, total, "distinct notifications delivered")
            try context.expectEqual(sender.overlappingDeliveries, [], "notifications delivered twice at once")
            try context.expectEqual(sender.calls.values.filter { $0 > 1 }.count, 0, "notifications sent more than once")
            let stored = try await context.store.notifications(appointmentID: nil)
            try context.expect(stored.allSatisfy { $0.status == .sent }, "every notification stored as sent")
        },
    ]
}
