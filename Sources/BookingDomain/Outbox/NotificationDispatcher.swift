import AsyncAlgorithms
public import Foundation
public import Logging
import Metrics
public import ServiceLifecycle
import Synchronization

/// Delivers the outbox: a swift-service-lifecycle `Service` that claims due notifications in
/// batches with their appointments (``BookingStore/claimNotificationsWithAppointments(_:)``), sends each
/// through a ``NotificationSender`` outside any transaction, and records the outcome.
///
/// - Success marks the notification `sent`.
/// - A `reminder` is sent only while its appointment is booked at the slot it reminds of (the same
///   ``Appointment/sequence``) and has not started: the appointment is re-read just before the send, and
///   a reminder of a cancelled or moved appointment, or one late past the start (retries, an outage), is
///   recorded `obsolete` instead, never sent.
/// - A transient failure schedules the next attempt with ``Backoff``, or later if the failure carries a
///   ``DeliveryFailure/retryAfter`` (capped at ``Configuration/maxRetryAfter``); after
///   ``Configuration/maxAttempts`` attempts, or on a permanent failure, it is `failed` with the error.
/// - The stored and logged error is the ``DeliveryFailure/reason`` a sender wrote on purpose; for any
///   other error it is only the error's type name (`the sender failed: MyMailer.Error`), because error
///   descriptions often carry email addresses or URLs with tokens.
///
/// **Leases.** A claim leases its notifications for ``Configuration/leaseDuration`` (15 s by default) to
/// `"<workerID>/<claim-id>"`, and finishing is guarded by that owner, so a late, stale worker cannot
/// overwrite a newer outcome. Three rules keep one notification from being sent by two dispatchers at once:
/// - a pass claims no more than can be sent within one lease (``Configuration/claimLimit``);
/// - just before each send the dispatcher checks that the lease lasts at least
///   ``Configuration/sendTimeout`` + ``Configuration/leaseMargin`` more; if not, it renews the lease once
///   and checks again, and failing that releases the notification unsent (no attempt counted) instead of
///   starting a send its lease might not cover;
/// - while a send runs, a heartbeat renews its lease every ``Configuration/heartbeatInterval``
///   (``BookingStore/renewLeases(of:owner:now:leaseExpiresAt:)``). A renewal the store refuses means
///   the lease was taken over: the dispatcher logs it, cancels the send, and records no outcome.
///
/// **Recovery after a crash.** A dispatcher killed mid-send leaves leases that lapse at most
/// ``Configuration/leaseDuration`` after their last claim or renewal; then any dispatcher (thread or
/// process) claims them again. With the defaults every notification the dead process held is delivered
/// within 20 s of its restart: 15 s lease + 2 s poll + up to 3 s to start and send. A dispatcher restarted
/// with the same `workerID` does not even wait: ``run()`` first releases every lease its identity's
/// earlier runs still hold (``releaseEarlierLeases()``) and claims them at once. So give each
/// instance a stable, unique `workerID` (a container or unit name); two live dispatchers must never
/// share one, or each start-up would release the other's leases mid-send.
///
/// - It wakes on the store's hint (PostgreSQL `NOTIFY`, an in-process signal otherwise) and polls
///   every ``Configuration/pollInterval`` as a backstop.
/// - On graceful shutdown it stops claiming, lets in-flight sends finish (each is asked to stop after
///   ``Configuration/sendTimeout``) and releases the leases it did not use, without counting an attempt.
///
/// Outcomes of sends that end together are recorded together, in one call of
/// ``BookingStore/finish(outcomes:owner:)``: an outcome waits at most for the call already running, then its own.
///
/// Delivery is at least once: use the notification id to deduplicate downstream.
///
/// ```swift
/// let dispatcher = NotificationDispatcher(
///     store: store, sender: LoggingNotificationSender(logger: logger), logger: logger, workerID: "booking-1")
/// let group = ServiceGroup(services: [dispatcher], logger: logger)
/// try await group.run()
/// ```
///
/// The clock (``WallClock``) dates leases and attempts; the heartbeat, the send timeout and the poll
/// interval are measured in real time.
///
/// Metrics: counters `booking_notifications_sent_total`, `booking_notifications_retried_total`,
/// `booking_notifications_failed_total` (dimension `kind`) and the timer
/// `booking_notification_delivery_seconds` (from falling due, a reminder's lead before its slot, to delivery), one of
/// each for every kind, made when the
/// dispatcher is: bootstrap `MetricsSystem` first, as swift-metrics asks.
public struct NotificationDispatcher: Service {
    /// Tuning; the defaults suit a small deployment.
    ///
    /// The lease numbers hang together: `leaseDuration >= sendTimeout + 2 × leaseMargin` (a fresh claim
    /// must pass the check before its send, which wants `sendTimeout + leaseMargin` of lease left, with
    /// one more margin for the claim and the appointment's re-read; a lease worn down further, by a slow database
    /// or a send waiting for an earlier one, is renewed once before its send), and `heartbeatInterval <=
    /// (leaseDuration - leaseMargin) / 2` (a lease gets at least two renewals before it could lapse).
    /// The initializer and the dispatcher adjust values that break them, and move each value into its range (for
    /// instance `sendTimeout` 10 ms to 1 h, `leaseDuration` at most 24 h, `pollInterval` 10 ms to 1 h, `maxRetryAfter`
    /// at most 30 days, `batchSize` and `concurrentSends` at most 10,000): a value beyond would overflow the instants
    /// and timers it makes.
    public struct Configuration: Sendable {
        /// The most notifications one pass claims; fewer when they could not all be sent within one
        /// lease (see ``claimLimit``).
        public var batchSize: Int
        /// Sends in flight at once within a pass.
        public var concurrentSends: Int
        /// How long a claim, and each renewal, holds a notification.
        ///
        /// 15 s by default: short, because it bounds how long a crashed dispatcher's notifications wait
        /// (15 s + one poll), yet above the 10 s send timeout plus twice the 2 s margin, so that a send
        /// can start on a fresh lease that covers all of it even if no renewal gets through.
        public var leaseDuration: Duration
        /// How long one send may take: then the dispatcher cancels it, and unless the sender still reports
        /// success, the attempt is a transient failure.
        ///
        /// 10 s by default: a webhook receiver or a mail relay answers well within it, and it leaves
        /// room for the lease to cover a whole send.
        public var sendTimeout: Duration
        /// How often the leases of sends in flight are renewed (real time).
        ///
        /// 5 s by default: a third of the lease, so two renewals can fail before a slow send's lease lapses.
        public var heartbeatInterval: Duration
        /// Slack kept between a lease's end and the latest moment a send may still run: covers the
        /// skew between the clocks of dispatcher processes and the time to record an outcome.
        ///
        /// 2 s by default (NTP keeps servers' clocks within milliseconds of each other).
        public var leaseMargin: Duration
        /// The backstop poll interval.
        public var pollInterval: Duration
        /// How long a pass waits after the store's wake-up hint (or a poll) before it claims, so that
        /// notifications committed close together go out in one pass: under load, fewer claims and outcome
        /// statements, each of a fuller batch. A notification waits this much longer for its send.
        ///
        /// Zero by default (a pass claims at once); a few tens of milliseconds suit a sender as fast as the
        /// store, such as a log, under many bookings a second. At most 1 s; graceful shutdown ends the wait.
        public var coalescingDelay: Duration
        /// Attempts before a notification fails for good.
        public var maxAttempts: Int
        /// The delay between attempts.
        public var backoff: Backoff
        /// The longest wait a ``DeliveryFailure/retryAfter`` can impose: a receiver asking for more
        /// (a `Retry-After` of a week, or a date far ahead) is tried again after this long instead, so one
        /// answer cannot park a notification indefinitely. The next attempt waits
        /// `max(backoff delay, min(retryAfter, maxRetryAfter))`.
        public var maxRetryAfter: Duration

        /// Creates a configuration: batches of at most 20, 4 concurrent sends, 15 s leases renewed every
        /// 5 s while a send runs, 10 s send timeout, 2 s lease margin, 2 s polls, 10 attempts, backoff from
        /// 2 s capped at 1 h, `Retry-After` honoured up to 24 h, no coalescing delay.
        ///
        /// With these a notification held by a dispatcher that was killed is claimed again at most
        /// 15 s + 2 s after the kill, and at once by a dispatcher restarted with the same `workerID`.
        public init(
            batchSize: Int = 20, concurrentSends: Int = 4, leaseDuration: Duration = .seconds(15),
            sendTimeout: Duration = .seconds(10), heartbeatInterval: Duration = .seconds(5),
            leaseMargin: Duration = .seconds(2), pollInterval: Duration = .seconds(2), maxAttempts: Int = 10,
            backoff: Backoff = Backoff(), maxRetryAfter: Duration = .seconds(24 * 3600),
            coalescingDelay: Duration = .zero
        ) {
            self.batchSize = batchSize
            self.concurrentSends = concurrentSends
            self.leaseDuration = leaseDuration
            self.sendTimeout = sendTimeout
            self.heartbeatInterval = heartbeatInterval
            self.leaseMargin = leaseMargin
            self.pollInterval = pollInterval
            self.maxAttempts = maxAttempts
            self.backoff = backoff
            self.maxRetryAfter = maxRetryAfter
            self.coalescingDelay = coalescingDelay
            self = normalized()
        }

        /// The most notifications one pass claims: `concurrentSends` for each wave of sends that fits in
        /// one lease, `floor((leaseDuration - leaseMargin) / sendTimeout)` (at least one), and at most
        /// ``batchSize``. With the defaults: 4.
        public var claimLimit: Int {
            let fixed = normalized()
            let waves = max(1, ((fixed.leaseDuration - fixed.leaseMargin) / fixed.sendTimeout).rounded(.down))
            return Int(min(Double(fixed.batchSize), Double(fixed.concurrentSends) * waves))
        }

        /// The configuration with every value moved into its allowed range, and the lease rules kept.
        ///
        /// The ranges: `batchSize` and `concurrentSends` 1-10,000; `sendTimeout` 10 ms to 1 h; `leaseMargin` 10 ms
        /// to 1 min; `leaseDuration` up to 24 h; `heartbeatInterval` from 10 ms; `pollInterval` 10 ms to 1 h;
        /// `maxAttempts` from 1; `maxRetryAfter` 0 to 30 days (``Backoff/longestDelay``); `coalescingDelay` 0 to 1 s.
        /// Values beyond them (`.seconds(.max)` for "never") would overflow the instants and timers they make.
        func normalized() -> Configuration {
            var fixed = self
            fixed.batchSize = min(max(1, batchSize), 10_000)
            fixed.concurrentSends = min(max(1, concurrentSends), 10_000)
            fixed.sendTimeout = min(max(sendTimeout, .milliseconds(10)), .seconds(3600))
            fixed.leaseMargin = min(max(leaseMargin, .milliseconds(10)), .seconds(60))
            fixed.leaseDuration = min(
                max(leaseDuration, fixed.sendTimeout + fixed.leaseMargin * 2), .seconds(24 * 3600))
            fixed.heartbeatInterval = min(
                max(heartbeatInterval, .milliseconds(10)), (fixed.leaseDuration - fixed.leaseMargin) / 2)
            fixed.pollInterval = min(max(pollInterval, .milliseconds(10)), .seconds(3600))
            fixed.maxAttempts = max(1, maxAttempts)
            fixed.maxRetryAfter = min(max(.zero, maxRetryAfter), Backoff.longestDelay)
            fixed.coalescingDelay = min(max(.zero, coalescingDelay), .seconds(1))
            return fixed
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
        /// Released unsent, without counting an attempt: because of shutdown, or because too little of
        /// the lease was left to start a send and renewing it did not help.
        public var released = 0
        /// Notifications whose lease was taken over: a renewal or an outcome the store refused.
        public var lostLeases = 0
        /// Reminders recorded `obsolete` unsent: their appointment was cancelled or moved.
        public var obsolete = 0

        /// An empty report.
        public init() {}

        /// Adds the counts of `other`.
        mutating func add(_ other: PassReport) {
            claimed += other.claimed
            sent += other.sent
            retried += other.retried
            failed += other.failed
            released += other.released
            lostLeases += other.lostLeases
            obsolete += other.obsolete
        }
    }

    private let store: any BookingStore
    private let sender: any NotificationSender
    private let configuration: Configuration
    private let clock: any WallClock
    private let logger: Logger
    private let workerID: String
    private let metrics: DeliveryMetrics

    /// Creates a dispatcher.
    /// - Parameters:
    ///   - store: the store whose outbox it delivers; ``run()`` migrates it first.
    ///   - sender: delivers each notification.
    ///   - configuration: batches, leases, timeouts and retries; the defaults suit a small deployment.
    ///   - clock: the time of claims, leases and next attempts.
    ///   - logger: receives the dispatcher's logs (notification ids, never personal data).
    ///   - workerID: this dispatcher's identity; its claims are leased to `"<workerID>/<claim-id>"`. Keep it
    ///     stable across restarts and unique among running dispatchers (a container or unit name) so a
    ///     restarted process takes back its earlier leases at once (see ``run()``). The default is random per
    ///     dispatcher: always safe, but a restart then waits for the old leases to lapse. Any text works:
    ///     `%` and `/` are percent-encoded in lease owners, so no identity is a prefix of another's.
    public init(
        store: any BookingStore, sender: any NotificationSender, configuration: Configuration = Configuration(),
        clock: any WallClock = SystemWallClock(), logger: Logger,
        workerID: String = "dispatcher-\(UUID().uuidString.prefix(8).lowercased())"
    ) {
        self.store = store
        self.sender = sender
        self.configuration = configuration.normalized()
        self.clock = clock
        self.logger = logger
        self.workerID = workerID.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
        metrics = DeliveryMetrics()
    }

    /// Runs until graceful shutdown or cancellation.
    ///
    /// First brings the store's schema up to date (``BookingStore/migrate()``, idempotent and safe
    /// beside other callers), so a dispatcher never polls a table that is missing or older than this
    /// code, and throws when that fails. Then releases the leases this `workerID`'s earlier runs still hold (``releaseEarlierLeases()``),
    /// so what a crashed predecessor had claimed is delivered at once; then claims and delivers passes.
    public func run() async throws {
        try await store.migrate()
        do {
            let released = try await releaseEarlierLeases()
            if released > 0 {
                logger.notice(
                    "took back notifications an earlier run of this dispatcher had claimed",
                    metadata: ["dispatcher.id": "\(workerID)", "count": "\(released)"])
            }
        } catch {
            // Not fatal: those leases lapse by themselves within one lease duration.
            logger.warning("could not take back earlier leases", metadata: ["error": "\(error)"])
        }
        // A pass starts on the store's hint, on the poll timer, or (to stop) on graceful shutdown.
        let (shutdown, announceShutdown) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let polls = AsyncTimerSequence.repeating(every: configuration.pollInterval, clock: .continuous).map { _ in }
        var wakeUps = merge(store.outboxWakeUps(), polls, shutdown).makeAsyncIterator()
        await withGracefulShutdownHandler {
            // Passes failed in a row: an outage of the store warns once, not at every poll.
            var failedPasses = 0
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                var claimedFull = false
                do {
                    // A refill before a slow send's timeout, even with a poll longer than it (woken by the store).
                    claimedFull = try await deliverPass(
                        limit: configuration.claimLimit,
                        refillingEvery: min(configuration.pollInterval, configuration.sendTimeout / 2)
                    ).claimedFull
                    if failedPasses > 0 {
                        logger.info("notification passes succeed again", metadata: ["failed": "\(failedPasses)"])
                        failedPasses = 0
                    }
                } catch {
                    failedPasses += 1
                    logger.log(
                        level: failedPasses == 1 ? .warning : .debug, "notification pass failed",
                        metadata: ["error": "\(error)", "failed": "\(failedPasses)"])
                }
                // A full batch may mean more are due: go again at once.
                if !claimedFull {
                    guard await wakeUps.next() != nil else { return }  // cancelled
                    if configuration.coalescingDelay > .zero && !Task.isShuttingDownGracefully {
                        // Ends early on cancellation and on graceful shutdown, which the loop checks next.
                        try? await cancelWhenGracefulShutdown {
                            try await Task.sleep(for: configuration.coalescingDelay)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            announceShutdown.yield()
        }
    }

    /// Releases every lease that claims of this dispatcher's `workerID` hold, so those notifications are
    /// due again now; returns how many. ``run()`` calls it at start-up.
    ///
    /// Only for a dispatcher that has not started delivering: the leases it releases belong to an earlier
    /// run of the same identity, which must be dead (a live one would lose its leases mid-send). The
    /// attempt counts stay as they are. See ``BookingStore/releaseLeases(ofWorker:now:)``.
    @discardableResult
    public func releaseEarlierLeases() async throws(BookingError) -> Int {
        try await store.releaseLeases(ofWorker: workerID, now: try clock.checkedNow().roundedToMilliseconds).count
    }

    /// How long after its claim a send may still use the appointment the claim read (seconds of the dispatcher's
    /// clock); a later send reads it again.
    static let claimedAppointmentFreshness: TimeInterval = 1

    /// Claims one pass of due notifications (at most ``Configuration/claimLimit``) and delivers it;
    /// what tests and `drain` build on.
    ///
    /// Each send runs in a task of its own (not a child task: its lease cancels it alone), which inherits the
    /// caller's task-local values and priority but not a task executor preference. The pass returns once every
    /// one has ended. Cancelling the pass cancels them and releases what they could not send, and what they had not
    /// started, without counting an attempt, as graceful shutdown releases what it did not start.
    public func deliverDue() async throws(BookingError) -> PassReport {
        try await deliverPass(limit: configuration.claimLimit, refillingEvery: nil).report
    }

    /// One pass claiming at most `limit`. With `refillingEvery`, a pass still running after that long (one slow send
    /// holding it) starts a pass of its own for its free send slots, claiming under a fresh lease owner as every
    /// claim does, and does so again at each such interval while a slot is free (a refill holds its slots until it
    /// ends, and does not refill in turn); so what falls due meanwhile does not wait for the slow send's timeout.
    /// ``run()`` refills every poll interval, or every half send timeout when that is shorter.
    ///
    /// Returns the report, whose counts include those of the passes it started, and whether its own claim was full
    /// (more may be due).
    func deliverPass(limit: Int, refillingEvery refillInterval: Duration?) async throws(BookingError) -> (
        report: PassReport, claimedFull: Bool
    ) {
        let now = try clock.checkedNow().roundedToMilliseconds
        let owner = "\(workerID)/\(UUID().uuidString.lowercased())"
        let leaseExpiresAt = now.addingTimeInterval(configuration.leaseDuration.timeInterval)
        let claimed = try await store.claimNotificationsWithAppointments(
            NotificationClaim(owner: owner, limit: limit, now: now, leaseExpiresAt: leaseExpiresAt))
        var report = PassReport()
        report.claimed = claimed.count
        guard !claimed.isEmpty else { return (report, false) }
        let leases = InFlightLeases(sendTimeout: configuration.sendTimeout)
        let recorder = OutcomeRecorder(store: store, owner: owner)
        let finished = FinishedSends<PassEvent>()
        // At most one refill tick waits in `finished`: ticks that pile up behind a slow step are one.
        let refillTickWaiting = TickFlag()
        let slots = min(configuration.concurrentSends, limit)
        let (outcomes, refills) = await withDiscardingTaskGroup(returning: ([Outcome], PassReport).self) { group in
            group.addTask { await self.renewLeases(leases, owner: owner) }
            group.addTask {
                await leases.enforceSendDeadlines(ticking: refillInterval) {
                    if refillTickWaiting.raise() { finished.add(.refillDue) }
                }
            }
            // Each notification is delivered by a task of its own, which its lease can cancel (a lost lease, a
            // passed deadline); the pass waits for every one it started, and for its refill, also when cancelled.
            var pending = claimed[...]
            var running = 0
            // Send slots held by refills still running.
            var refillSlots = 0
            var outcomes: [Outcome] = []
            var refills = PassReport()
            await withTaskCancellationHandler {
                while !pending.isEmpty || running > 0 || refillSlots > 0 {
                    while running < configuration.concurrentSends, let next = pending.popFirst() {
                        if Task.isShuttingDownGracefully || Task.isCancelled {
                            outcomes.append(
                                await finish(
                                    next.notification, recorder,
                                    .released(now: clock.boundedNow().roundedToMilliseconds)))
                            continue
                        }
                        running += 1
                        let id = next.notification.id
                        leases.begin(id, expiresAt: next.notification.leaseExpiresAt ?? leaseExpiresAt)
                        let delivery = Task {
                            finished.add(
                                .finished(
                                    await self.deliver(
                                        next, claimedAt: now, owner: owner, recorder: recorder, leases: leases)))
                        }
                        leases.attach(delivery, to: id)
                        // A task of its own does not inherit the pass's cancellation, as a child would.
                        if Task.isCancelled { delivery.cancel() }
                    }
                    guard running > 0 || refillSlots > 0 else { continue }
                    switch await finished.next() {
                    case .finished(let outcome):
                        outcomes.append(outcome)
                        running -= 1
                    case .refillDue:
                        refillTickWaiting.lower()
                        let free = slots - running - refillSlots
                        guard pending.isEmpty, free > 0, !Task.isShuttingDownGracefully, !Task.isCancelled
                        else { continue }
                        refillSlots += free
                        // A child task: cancelling the pass cancels it, and it sees graceful shutdown as the pass does.
                        group.addTask {
                            finished.add(.refilled(await self.refill(limit: free), slots: free))
                        }
                    case .refilled(let report, let freed):
                        refillSlots -= freed
                        refills.add(report)
                    }
                }
            } onCancel: {
                leases.cancelAll()
            }
            // The heartbeat and the deadlines' watch never end by themselves.
            group.cancelAll()
            return (outcomes, refills)
        }
        for outcome in outcomes {
            switch outcome {
            case .sent: report.sent += 1
            case .retried: report.retried += 1
            case .failed: report.failed += 1
            case .released: report.released += 1
            case .lostLease: report.lostLeases += 1
            case .obsolete: report.obsolete += 1
            }
        }
        let claimedFull = claimed.count >= limit
        report.add(refills)
        return (report, claimedFull)
    }

    /// What a pass waits for: a delivery finished, the time to refill its free send slots, or the refill's end.
    private enum PassEvent: Sendable {
        case finished(Outcome)
        case refillDue
        /// A refill ended, with its report and the send slots it held.
        case refilled(PassReport, slots: Int)
    }

    /// A pass of its own for a running pass's free send slots, `limit` of them, which does not refill in turn; an
    /// empty report when its claim fails (the next refill or pass tries again).
    private func refill(limit: Int) async -> PassReport {
        // Graceful shutdown or cancellation may have begun since the pass decided: claim nothing to release at once.
        guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return PassReport() }
        do {
            let report = try await deliverPass(limit: limit, refillingEvery: nil).report
            if report.claimed > 0 {
                logger.debug(
                    "a long pass claimed more for its free send slots",
                    metadata: ["dispatcher.id": "\(workerID)", "count": "\(report.claimed)"])
            }
            return report
        } catch {
            logger.warning("could not claim more notifications during a long pass", metadata: ["error": "\(error)"])
            return PassReport()
        }
    }

    /// Delivers passes until nothing is due now (or `maxPasses` is reached; none when it is 0 or less): drains the
    /// outbox in tests.
    @discardableResult
    public func drain(maxPasses: Int = 1000) async throws(BookingError) -> PassReport {
        var total = PassReport()
        for _ in 0..<max(0, maxPasses) {
            let pass = try await deliverDue()
            total.add(pass)
            if pass.claimed == 0 { break }
        }
        return total
    }

    private enum Outcome { case sent, retried, failed, released, lostLease, obsolete }

    /// How one attempt ended, before its outcome is recorded.
    private enum Attempt {
        /// Sent; the notification had been due since `dueSince`.
        case delivered(dueSince: Date)
        case failed(DeliveryFailure)
        /// Too little lease was left to start the send, and it could not be renewed in time.
        case tooLate
        /// The lease was taken over.
        case leaseLost
        /// A reminder whose appointment is no longer booked at the slot it reminds of.
        case obsolete
    }

    /// The heartbeat of one pass: renews the leases of its sends in flight until cancelled.
    private func renewLeases(_ leases: InFlightLeases, owner: String) async {
        var clockWarned = false
        while true {
            do { try await Task.sleep(for: configuration.heartbeatInterval) } catch { return }
            let ids = leases.held
            guard !ids.isEmpty else { continue }
            // A clock gone far off would renew to a lease already over (any dispatcher could claim it): skip the beat.
            guard let now = try? clock.checkedNow().roundedToMilliseconds else {
                if !clockWarned {
                    logger.warning("could not renew notification leases: the clock reads outside the years 0001-9999")
                    clockWarned = true
                }
                continue
            }
            let expiresAt = now.addingTimeInterval(configuration.leaseDuration.timeInterval)
            let renewed: Set<Int64>
            do {
                renewed = try await store.renewLeases(of: ids, owner: owner, now: now, leaseExpiresAt: expiresAt)
            } catch {
                // Try again at the next beat; the lease still covers the send timeout it started with.
                logger.warning("could not renew notification leases", metadata: ["error": "\(error)"])
                continue
            }
            leases.renewed(renewed, until: expiresAt)
            for id in leases.lose(Set(ids).subtracting(renewed)) {
                logger.warning(
                    "notification lease was taken over during a send; the send is cancelled and its outcome not recorded",
                    metadata: ["notification.id": "\(id)"])
            }
        }
    }

    private func deliver(
        _ claimed: ClaimedNotification, claimedAt: Date, owner: String, recorder: OutcomeRecorder,
        leases: InFlightLeases
    ) async -> Outcome {
        let notification = claimed.notification
        let attempt = await attempt(claimed, claimedAt: claimedAt, owner: owner, leases: leases)
        // From here on the heartbeat leaves this lease alone; finishing is guarded by the owner anyway.
        if leases.end(notification.id) { return .lostLease }
        switch attempt {
        case .leaseLost:
            return .lostLease
        case .obsolete:
            logger.debug(
                "reminder not sent: its appointment was cancelled or moved",
                metadata: ["notification.id": "\(notification.id)"])
            return await finish(notification, recorder, .obsolete(now: clock.boundedNow().roundedToMilliseconds))
        case .tooLate:
            logger.notice(
                "notification released unsent: too little of its lease was left to start a send",
                metadata: ["notification.id": "\(notification.id)"])
            return await finish(notification, recorder, .released(now: clock.boundedNow().roundedToMilliseconds))
        case .failed(let failure):
            if leases.wasCancelled {
                // Cut short by the pass's cancellation, not tried: back unsent, no attempt counted.
                logger.notice(
                    "notification released unsent: its dispatcher pass was cancelled",
                    metadata: ["notification.id": "\(notification.id)"])
                return await finish(notification, recorder, .released(now: clock.boundedNow().roundedToMilliseconds))
            }
            return await finish(notification, recorder, failure: failure)
        case .delivered(let dueSince):
            return await recordSent(notification, dueSince: dueSince, recorder)
        }
    }

    /// Records a sent notification, and its kind's counter and its time from falling due to delivery.
    private func recordSent(_ notification: BookingNotification, dueSince: Date, _ recorder: OutcomeRecorder) async
        -> Outcome
    {
        let now = clock.boundedNow().roundedToMilliseconds
        let outcome = await finish(notification, recorder, .sent(at: now))
        if outcome == .sent {
            let kindMetrics = metrics[notification.kind]
            kindMetrics.sent.increment()
            // At most a year: a row created centuries ago (a clock once far off) must not overflow the nanoseconds.
            kindMetrics.delivery.recordNanoseconds(
                Int64(min(max(0, now.timeIntervalSince(dueSince)), 366 * 86_400) * 1e9))
            logger.debug(
                "notification sent",
                metadata: [
                    "notification.id": "\(notification.id)", "notification.kind": "\(notification.kind.rawValue)",
                ])
        }
        return outcome
    }

    /// Re-reads a reminder's appointment, checks that a reminder is still wanted and that the lease still covers
    /// a whole send (renewing it once when it does not), and sends. Any other notification goes with its appointment
    /// as read right after the claim, when its send starts within ``claimedAppointmentFreshness`` of the claim (a
    /// send waiting for an earlier one, and an appointment the claim could not read, are read again).
    private func attempt(_ claimed: ClaimedNotification, claimedAt: Date, owner: String, leases: InFlightLeases)
        async -> Attempt
    {
        let notification = claimed.notification
        let record: AppointmentRecord?
        // The claim's instant is rounded to the millisecond; a clock that stepped back counts as stale.
        if notification.kind != .reminder, let read = claimed.appointment,
            (-0.001...Self.claimedAppointmentFreshness).contains(clock.now().timeIntervalSince(claimedAt))
        {
            record = read
        } else {
            do {
                record = try await store.record(id: notification.appointmentID)
            } catch {
                return .failed(.transient(error.message))
            }
        }
        guard let record else { return .failed(.permanent("the appointment no longer exists")) }
        if notification.kind == .reminder,
            record.appointment.status != .booked || record.appointment.sequence != notification.sequence
                || clock.now() >= record.appointment.slot.start
        {
            return .obsolete
        }
        guard !leases.isLost(notification.id) else { return .leaseLost }
        // Never start a send that its lease might not outlast, even if no renewal got through. A lease worn down
        // before its send (a slow claim and read, a send waiting for an earlier one) is renewed first: on a database
        // that takes seconds a statement, releasing it would only have the next pass claim it, and wear it down, again.
        let needed = configuration.sendTimeout + configuration.leaseMargin
        if !leases.holds(notification.id, for: needed, after: clock.boundedNow().roundedToMilliseconds) {
            switch await renewBeforeSend(notification.id, owner: owner, leases: leases) {
            case .renewed:
                guard leases.holds(notification.id, for: needed, after: clock.boundedNow().roundedToMilliseconds)
                else { return .tooLate }
            case .takenOver:
                logger.notice(
                    "notification not sent: its lease was taken over before its send began",
                    metadata: ["notification.id": "\(notification.id)"])
                return .leaseLost
            case .notAsked:
                return .tooLate
            }
        }
        return await send(NotificationDelivery(notification: notification, appointment: record.appointment), leases)
    }

    /// What became of a renewal asked for before a send.
    private enum RenewalBeforeSend {
        case renewed
        /// The store renewed nothing: another worker holds the lease now, or the notification is no longer pending.
        case takenOver
        /// The store could not be asked (its error, or a clock outside the years 0001-9999).
        case notAsked
    }

    /// Renews the lease of `id` at once, as the heartbeat would at its next beat.
    private func renewBeforeSend(_ id: Int64, owner: String, leases: InFlightLeases) async -> RenewalBeforeSend {
        guard let now = try? clock.checkedNow().roundedToMilliseconds else { return .notAsked }
        let expiresAt = now.addingTimeInterval(configuration.leaseDuration.timeInterval)
        guard let renewed = try? await store.renewLeases(of: [id], owner: owner, now: now, leaseExpiresAt: expiresAt)
        else { return .notAsked }
        leases.renewed(renewed, until: expiresAt)
        return renewed.contains(id) ? .renewed : .takenOver
    }

    /// Calls the sender within ``Configuration/sendTimeout``: once its deadline passes, or as soon as the lease is
    /// lost, the delivery's task is cancelled (see ``InFlightLeases``), which asks the sender to stop, and its answer
    /// is awaited. A success after the timeout still counts: the receiver has it.
    private func send(_ delivery: NotificationDelivery, _ leases: InFlightLeases) async -> Attempt {
        let id = delivery.notification.id
        leases.startSend(id)
        let failure = await callSender(delivery)
        let timedOut = leases.endSend(id)
        if leases.isLost(id) { return .leaseLost }
        guard let failure else { return .delivered(dueSince: delivery.dueSince) }
        return .failed(
            timedOut ? .transient("the sender did not answer within \(configuration.sendTimeout)") : failure)
    }

    /// Calls the sender; returns the failure, if any.
    private func callSender(_ delivery: NotificationDelivery) async -> DeliveryFailure? {
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

    private func finish(_ notification: BookingNotification, _ recorder: OutcomeRecorder, failure: DeliveryFailure)
        async -> Outcome
    {
        let now = clock.boundedNow().roundedToMilliseconds
        if failure.isPermanent || notification.attempts >= configuration.maxAttempts {
            let outcome = await finish(notification, recorder, .failed(error: failure.reason, now: now))
            if outcome == .failed {
                metrics[notification.kind].failed.increment()
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
            notification, recorder,
            .retry(error: failure.reason, nextAttemptAt: now.addingTimeInterval(delay.timeInterval), now: now))
        if outcome == .retried {
            metrics[notification.kind].retried.increment()
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

    /// Records `result` through the pass's recorder (with other sends' outcomes that end at the same time).
    private func finish(_ notification: BookingNotification, _ recorder: OutcomeRecorder, _ result: DeliveryOutcome)
        async -> Outcome
    {
        let accepted: Bool
        do {
            accepted = try await recorder.record(result, of: notification.id)
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
        case .obsolete: return .obsolete
        }
    }
}

/// Whether a tick waits to be handled: raised by the timer, lowered by the pass that handles it.
private final class TickFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    /// Raises the flag; returns whether it was down (the tick is new and must be handed over).
    func raise() -> Bool { !raised.exchange(true, ordering: .acquiringAndReleasing) }

    /// Lowers the flag: the tick was handled.
    func lower() { raised.store(false, ordering: .releasing) }
}

extension NotificationDelivery {
    /// When the notification fell due: a reminder its lead before the slot (not before it was written), any other
    /// notification when it was written.
    var dueSince: Date {
        guard notification.kind == .reminder, let lead = notification.reminderLead else {
            return notification.createdAt
        }
        return max(notification.createdAt, appointment.slot.start.addingTimeInterval(-lead.timeInterval))
    }
}
