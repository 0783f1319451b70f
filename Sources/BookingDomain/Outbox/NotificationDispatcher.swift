public import Foundation
public import Logging
import Metrics
public import ServiceLifecycle

/// Delivers the outbox: a swift-service-lifecycle `Service` that claims due notifications in
/// batches, sends each through a ``NotificationSender`` outside any transaction, and records the outcome.
///
/// - Success marks the notification `sent`.
/// - A transient failure schedules the next attempt with ``Backoff``, or later if the failure carries a
///   ``DeliveryFailure/retryAfter`` (capped at ``Configuration/maxRetryAfter``); after
///   ``Configuration/maxAttempts`` attempts, or on a permanent failure, it is `failed` with the error.
/// - The stored and logged error is the ``DeliveryFailure/reason`` a sender wrote on purpose; for any
///   other error it is only the error's type name (`the sender failed: MyMailer.Error`), because error
///   descriptions often carry email addresses or URLs with tokens.
/// - Each claim leases its notifications for ``Configuration/leaseDuration``; a dispatcher that dies
///   mid-send leaves a lease that lapses, and another dispatcher (thread or process) tries again.
///   Finishing is guarded by the claim, so a late, stale worker cannot overwrite a newer outcome.
/// - It wakes on the store's hint (PostgreSQL `NOTIFY`, an in-process signal otherwise) and polls
///   every ``Configuration/pollInterval`` as a backstop.
/// - On graceful shutdown it stops claiming, lets in-flight sends finish (each is bounded by
///   ``Configuration/sendTimeout``) and releases the leases it did not use, without counting an attempt.
///
/// Delivery is at least once: use the notification id to deduplicate downstream.
///
/// ```swift
/// let dispatcher = NotificationDispatcher(store: store, sender: LoggingNotificationSender(logger: logger), logger: logger)
/// let group = ServiceGroup(services: [dispatcher], logger: logger)
/// try await group.run()
/// ```
///
/// Metrics: counters `booking_notifications_sent_total`, `booking_notifications_retried_total`,
/// `booking_notifications_failed_total` (dimension `kind`) and the timer
/// `booking_notification_delivery_seconds` (enqueue to delivery).
public struct NotificationDispatcher: Service {
    /// Tuning; the defaults suit a small deployment.
    public struct Configuration: Sendable {
        /// Notifications claimed at once.
        public var batchSize: Int
        /// Sends in flight at once within a batch.
        public var concurrentSends: Int
        /// How long a claim holds its notifications; must exceed ``sendTimeout``.
        public var leaseDuration: Duration
        /// How long one send may take before it counts as a transient failure.
        public var sendTimeout: Duration
        /// The backstop poll interval.
        public var pollInterval: Duration
        /// Attempts before a notification fails for good.
        public var maxAttempts: Int
        /// The delay between attempts.
        public var backoff: Backoff
        /// The longest wait a ``DeliveryFailure/retryAfter`` can impose: a receiver asking for more
        /// (a `Retry-After` of a week, or a date far ahead) is tried again after this long instead, so one
        /// answer cannot park a notification indefinitely. The next attempt waits
        /// `max(backoff delay, min(retryAfter, maxRetryAfter))`.
        public var maxRetryAfter: Duration

        /// Creates a configuration: batches of 20, 4 concurrent sends, 60 s leases, 20 s send timeout,
        /// 2 s polls, 10 attempts, backoff from 2 s capped at 1 h, `Retry-After` honoured up to 24 h.
        public init(
            batchSize: Int = 20, concurrentSends: Int = 4, leaseDuration: Duration = .seconds(60),
            sendTimeout: Duration = .seconds(20), pollInterval: Duration = .seconds(2), maxAttempts: Int = 10,
            backoff: Backoff = Backoff(), maxRetryAfter: Duration = .seconds(24 * 3600)
        ) {
            self.batchSize = max(1, batchSize)
            self.concurrentSends = max(1, concurrentSends)
            self.leaseDuration = max(leaseDuration, sendTimeout + .seconds(1))
            self.sendTimeout = sendTimeout
            self.pollInterval = pollInterval
            self.maxAttempts = max(1, maxAttempts)
            self.backoff = backoff
            self.maxRetryAfter = max(.zero, maxRetryAfter)
        }
    }

    /// What one pass over the due notifications did.
    public struct PassReport: Hashable, Sendable {
        /// Notifications claimed.
        public var claimed = 0
        /// Delivered.
        public var sent = 0
        /// Scheduled for another attempt.
        public var retried = 0
        /// Failed for good.
        public var failed = 0
        /// Released unsent because of shutdown.
        public var released = 0
        /// Outcomes the store refused because the lease had been taken over.
        public var lostLeases = 0

        /// An empty report.
        public init() {}
    }

    private let store: any BookingStore
    private let sender: any NotificationSender
    private let configuration: Configuration
    private let clock: any WallClock
    private let logger: Logger
    private let workerID: String
    private let doorbell = Doorbell()
    private let stopping = StopFlag()

    /// Creates a dispatcher.
    /// - Parameters:
    ///   - workerID: names this dispatcher in leases; each claim adds a fresh suffix.
    public init(
        store: any BookingStore, sender: any NotificationSender, configuration: Configuration = Configuration(),
        clock: any WallClock = SystemWallClock(), logger: Logger,
        workerID: String = "dispatcher-\(UUID().uuidString.prefix(8).lowercased())"
    ) {
        self.store = store
        self.sender = sender
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.workerID = workerID
    }

    /// Runs until graceful shutdown or cancellation.
    public func run() async throws {
        let hints = Task { [store, doorbell] in
            for await _ in store.outboxWakeUps() { doorbell.ring() }
        }
        defer { hints.cancel() }
        await withGracefulShutdownHandler {
            while !stopping.isSet && !Task.isCancelled {
                let report: PassReport
                do {
                    report = try await deliverDue()
                } catch {
                    logger.warning("notification pass failed", metadata: ["error": "\(error)"])
                    report = PassReport()
                }
                if report.claimed < configuration.batchSize || report.claimed == 0 {
                    await doorbell.wait(timeout: configuration.pollInterval)
                }
            }
        } onGracefulShutdown: {
            stopping.set()
            doorbell.ring()
        }
    }

    /// Claims one batch of due notifications and delivers it; what tests and `drain` build on.
    public func deliverDue() async throws(BookingError) -> PassReport {
        let now = clock.now().roundedToMilliseconds
        let owner = "\(workerID)/\(UUID().uuidString.lowercased())"
        let claimed = try await store.claimNotifications(
            NotificationClaim(
                owner: owner, limit: configuration.batchSize, now: now,
                leaseExpiresAt: now.addingTimeInterval(configuration.leaseDuration.timeInterval)))
        var report = PassReport()
        report.claimed = claimed.count
        guard !claimed.isEmpty else { return report }
        let outcomes = await withTaskGroup(of: Outcome.self) { group in
            var pending = claimed[...]
            var running = 0
            var outcomes: [Outcome] = []
            while !pending.isEmpty || running > 0 {
                while running < configuration.concurrentSends, let next = pending.popFirst() {
                    if stopping.isSet {
                        outcomes.append(
                            await finish(next, owner: owner, .released(now: clock.now().roundedToMilliseconds)))
                        continue
                    }
                    running += 1
                    group.addTask { await self.deliver(next, owner: owner) }
                }
                if let outcome = await group.next() {
                    running -= 1
                    outcomes.append(outcome)
                }
            }
            return outcomes
        }
        for outcome in outcomes {
            switch outcome {
            case .sent: report.sent += 1
            case .retried: report.retried += 1
            case .failed: report.failed += 1
            case .released: report.released += 1
            case .lostLease: report.lostLeases += 1
            }
        }
        return report
    }

    /// Delivers passes until nothing is due now (or `maxPasses` is reached): drains the outbox in tests.
    @discardableResult
    public func drain(maxPasses: Int = 1000) async throws(BookingError) -> PassReport {
        var total = PassReport()
        for _ in 0..<maxPasses {
            let pass = try await deliverDue()
            total.claimed += pass.claimed
            total.sent += pass.sent
            total.retried += pass.retried
            total.failed += pass.failed
            total.released += pass.released
            total.lostLeases += pass.lostLeases
            if pass.claimed == 0 { break }
        }
        return total
    }

    private enum Outcome { case sent, retried, failed, released, lostLease }

    private func deliver(_ notification: BookingNotification, owner: String) async -> Outcome {
        let failure: DeliveryFailure?
        do {
            guard let record = try await store.record(id: notification.appointmentID) else {
                return await finish(notification, owner: owner, failure: .permanent("the appointment no longer exists"))
            }
            failure = await send(NotificationDelivery(notification: notification, appointment: record.appointment))
        } catch {
            failure = .transient(error.message)
        }
        if let failure { return await finish(notification, owner: owner, failure: failure) }
        let now = clock.now().roundedToMilliseconds
        let outcome = await finish(notification, owner: owner, .sent(at: now))
        if outcome == .sent {
            let dimensions = [("kind", notification.kind.rawValue)]
            Counter(label: "booking_notifications_sent_total", dimensions: dimensions).increment()
            Metrics.Timer(
                label: "booking_notification_delivery_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds
            )
            .recordNanoseconds(Int64(max(0, now.timeIntervalSince(notification.createdAt)) * 1e9))
            logger.info(
                "notification sent",
                metadata: [
                    "notification.id": "\(notification.id)", "notification.kind": "\(notification.kind.rawValue)",
                ])
        }
        return outcome
    }

    /// Calls the sender with a timeout; returns the failure, if any.
    private func send(_ delivery: NotificationDelivery) async -> DeliveryFailure? {
        let timeout = configuration.sendTimeout
        return await withTaskGroup(of: DeliveryFailure?.self) { group in
            group.addTask {
                do {
                    try await sender.send(delivery)
                    return nil
                } catch let failure as DeliveryFailure {
                    return failure
                } catch {
                    // Only the type: a description may carry an address or a URL with a token.
                    return .transient("the sender failed: \(String(reflecting: type(of: error)))")
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .transient("the sender did not answer within \(timeout)")
            }
            let first = await group.next() ?? .transient("the send was cancelled")
            group.cancelAll()
            return first
        }
    }

    private func finish(_ notification: BookingNotification, owner: String, failure: DeliveryFailure) async -> Outcome {
        let now = clock.now().roundedToMilliseconds
        let dimensions = [("kind", notification.kind.rawValue)]
        if failure.isPermanent || notification.attempts >= configuration.maxAttempts {
            let outcome = await finish(notification, owner: owner, .failed(error: failure.reason, now: now))
            if outcome == .failed {
                Counter(label: "booking_notifications_failed_total", dimensions: dimensions).increment()
                logger.error(
                    "notification failed",
                    metadata: [
                        "notification.id": "\(notification.id)", "attempts": "\(notification.attempts)",
                        "error": "\(failure.reason)",
                    ])
            }
            return outcome
        }
        let delay = nextDelay(after: notification.attempts, failure: failure)
        let outcome = await finish(
            notification, owner: owner,
            .retry(error: failure.reason, nextAttemptAt: now.addingTimeInterval(delay.timeInterval), now: now))
        if outcome == .retried {
            Counter(label: "booking_notifications_retried_total", dimensions: dimensions).increment()
            logger.notice(
                "notification will be retried",
                metadata: [
                    "notification.id": "\(notification.id)", "attempts": "\(notification.attempts)",
                    "error": "\(failure.reason)",
                ])
        }
        return outcome
    }

    /// The jittered backoff, or the receiver's `Retry-After` if later (capped at `maxRetryAfter`).
    private func nextDelay(after attempts: Int, failure: DeliveryFailure) -> Duration {
        let backoff = configuration.backoff.delay(afterAttempt: attempts, unit: Double.random(in: 0...1))
        guard let retryAfter = failure.retryAfter else { return backoff }
        return max(backoff, min(retryAfter, configuration.maxRetryAfter))
    }

    private func finish(_ notification: BookingNotification, owner: String, _ result: DeliveryOutcome) async -> Outcome
    {
        let accepted: Bool
        do {
            accepted = try await store.finish(notification: notification.id, owner: owner, outcome: result)
        } catch {
            // The lease will lapse and another pass retries: at least once, never lost.
            logger.warning(
                "could not record a notification outcome",
                metadata: ["notification.id": "\(notification.id)", "error": "\(error)"])
            return .lostLease
        }
        guard accepted else {
            logger.warning("notification lease was taken over", metadata: ["notification.id": "\(notification.id)"])
            return .lostLease
        }
        switch result {
        case .sent: return .sent
        case .retry: return .retried
        case .failed: return .failed
        case .released: return .released
        }
    }
}
