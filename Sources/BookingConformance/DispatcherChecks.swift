import BookingDomain
import BookingTesting
import Foundation
import Synchronization

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
                "the appointment is read for each send, after the cancel, so both deliveries see it cancelled")
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
            "noSendStartsOnALapsingLease",
            "While the clock races ahead during sends, no send starts on a lease that could lapse within the send timeout, and no notification is sent by two dispatchers at once."
        ) { context in
            let total = 12
            for index in 0..<total { try await context.book(try context.draft(at: 30 * (index + 1))) }
            let starts = Recorder<SendStart>()
            let moves = Recorder<Int64>()
            let second = Later<NotificationDispatcher>()
            // Each send reads its lease as stored, lets the second dispatcher run a whole pass while the
            // first one's send is in flight, then moves the clock on: 13 s (more than the 10 s send
            // timeout), and 61 s (more than the 60 s lease) on every fourth send.
            let sender = RecordingNotificationSender(whileSending: { delivery, _ in
                let stored = try? await context.store.notifications(appointmentID: delivery.appointment.id)
                    .first { $0.id == delivery.notification.id }
                starts.append(
                    SendStart(
                        id: delivery.notification.id, owner: stored?.leaseOwner, leaseExpiresAt: stored?.leaseExpiresAt,
                        at: context.clock.now()))
                // In a task of its own: a busy machine can keep this send past its 10 s timeout (real time), which
                // cancels the send's task, and must not cancel the second's pass inside it (its sends' reads of the
                // store would fail, and look like sends on no lease).
                if stored?.leaseOwner?.hasPrefix("first/") == true {
                    _ = await Task { try? await second.value?.deliverDue() }.value
                }
                let call = moves.append(delivery.notification.id)
                context.clock.advance(by: call % 4 == 0 ? .seconds(61) : .seconds(13))
            })
            // One send at a time each, so every clock move happens at a known point.
            let first = context.dispatcher(sender, concurrentSends: 1, sendTimeout: .seconds(10), worker: "first")
            second.set(context.dispatcher(sender, concurrentSends: 1, sendTimeout: .seconds(10), worker: "second"))
            for _ in 0..<(4 * total) {
                let pending = try await context.store.notifications(appointmentID: nil).filter { $0.status != .sent }
                if pending.isEmpty { break }
                _ = try await first.deliverDue()
            }
            for start in starts.all {
                let left = start.leaseExpiresAt.map { $0.timeIntervalSince(start.at) } ?? -.infinity
                try context.expect(
                    start.owner != nil && left >= 10,
                    "notification \(start.id) started sending with \(left) s of lease left (owner \(start.owner ?? "none")); a send needs its 10 s timeout"
                )
            }
            try context.expectEqual(sender.overlappingDeliveries, [], "notifications sent by two dispatchers at once")
            let stored = try await context.store.notifications(appointmentID: nil)
            try context.expectEqual(stored.filter { $0.status == .sent }.count, total, "notifications sent")
            try context.expectEqual(
                sender.calls.filter { $0.value != 1 }.keys.sorted(), [], "notifications not sent exactly once")
            try context.expect(
                Set(starts.all.compactMap { $0.owner?.split(separator: "/").first }) == ["first", "second"],
                "both dispatchers sent some")
        },
        ConformanceCheck(
            "restartedDispatcherTakesBackItsLeases",
            "A dispatcher restarted with the same worker id takes back its earlier run's leases at once; leases of other ids, even look-alikes, stay untouched."
        ) { context in
            // The earlier run of `w_1` held two; the others only look alike (a LIKE wildcard, a longer id,
            // another case, no slash).
            let owners = ["w_1/run-1", "w_1/run-1", "wx1/run-1", "w_10/run-1", "W_1/run-1", "w_1", "w/run-1"]
            for index in owners.indices { try await context.book(try context.draft(at: 60 * (index + 1))) }
            var held: [(owner: String, id: Int64)] = []
            for owner in owners {
                let claimed = try await context.claim(owner, limit: 1, leaseSeconds: 60)
                try context.expectEqual(claimed.count, 1, "notifications claimed by \(owner)")
                held.append((owner, claimed[0].id))
            }
            let own = Set(held.filter { $0.owner.hasPrefix("w_1/") }.map(\.id))
            let sender = RecordingNotificationSender()
            let restarted = context.dispatcher(sender, worker: "w_1")
            try context.expectEqual(try await restarted.releaseEarlierLeases(), 2, "leases w_1 took back")
            try context.expectEqual(
                try await restarted.drain().sent, 2, "sent at once, while every lease would still hold for 60 s")
            try context.expectEqual(Set(sender.delivered.map(\.notification.id)), own, "the notifications sent")
            let stored = try await context.storedNotifications()
            for (owner, id) in held {
                let notification = stored[id]
                if own.contains(id) {
                    try context.expect(
                        notification?.status == .sent && notification?.attempts == 2,
                        "taken back and sent, the interrupted attempt still counted: \(String(describing: notification))"
                    )
                } else {
                    try context.expect(
                        notification?.status == .pending && notification?.leaseOwner == owner
                            && notification?.leaseExpiresAt == context.now.addingTimeInterval(60)
                            && notification?.attempts == 1,
                        "the lease of \(owner) is untouched: \(String(describing: notification))")
                }
            }
            let prefix = context.dispatcher(sender, worker: "w")
            try context.expectEqual(
                try await prefix.releaseEarlierLeases(), 1, "leases taken back by w (only w/run-1, not w_1's or wx1's)")
        },
        ConformanceCheck(
            "timedOutSendsAreRecorded",
            "Sends cancelled at their timeout are recorded: a late success as sent, a send that gave up as a retry."
        ) { context in
            for minutes in [60, 120] { try await context.book(try context.draft(at: minutes)) }
            let sender = TimeoutSender()
            let report = try await context.dispatcher(sender, concurrentSends: 2, sendTimeout: .milliseconds(200))
                .deliverDue()
            try context.expect(sender.succeededLate, "the first send was cancelled at its timeout, then succeeded")
            try context.expectEqual(report.sent, 1, "the late success counts as sent")
            try context.expectEqual(report.retried, 1, "the send that gave up at its timeout is retried")
            let stored = try await context.store.notifications(appointmentID: nil)
            try context.expect(
                stored.contains { $0.status == .sent && $0.attempts == 1 }
                    && stored.contains {
                        $0.status == .pending && $0.attempts == 1 && $0.leaseOwner == nil
                            && $0.lastError == "the sender did not answer within 0.2 seconds"
                    }, "stored: \(stored)")
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

/// A sender whose first send waits until it is cancelled and then succeeds all the same (late), and whose later
/// sends wait for their cancellation and give up (throw). Each waits at most a minute.
private final class TimeoutSender: NotificationSender {
    private let calls = Mutex(0)
    private let lateSuccess = Mutex(false)

    /// Whether the first send succeeded after it had been cancelled.
    var succeededLate: Bool { lateSuccess.withLock { $0 } }

    func send(_ delivery: NotificationDelivery) async throws {
        let first = calls.withLock { calls in
            calls += 1
            return calls == 1
        }
        guard first else {
            try await Task.sleep(for: .seconds(60))
            return
        }
        let start = ContinuousClock.now
        while !Task.isCancelled && ContinuousClock.now - start < .seconds(60) {
            // A task of its own is not cancelled with the send: each nap runs out.
            await Task { try? await Task.sleep(for: .milliseconds(10)) }.value
        }
        lateSuccess.withLock { $0 = Task.isCancelled }
    }
}

/// What the lease looked like in the store when a send started.
private struct SendStart: Sendable {
    let id: Int64
    let owner: String?
    let leaseExpiresAt: Date?
    let at: Date
}

/// Collects values from concurrent closures.
private final class Recorder<Element: Sendable>: Sendable {
    private let elements = Mutex<[Element]>([])
    /// Appends `element`; returns how many there are now.
    @discardableResult
    func append(_ element: Element) -> Int {
        elements.withLock {
            $0.append(element)
            return $0.count
        }
    }
    var all: [Element] { elements.withLock { $0 } }
}

/// A value set after the closures that read it were made: two dispatchers that call each other.
private final class Later<Value: Sendable>: Sendable {
    private let stored = Mutex<Value?>(nil)
    func set(_ value: Value) { stored.withLock { $0 = value } }
    var value: Value? { stored.withLock { $0 } }
}
