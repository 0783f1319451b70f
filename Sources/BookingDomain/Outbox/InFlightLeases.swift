import Foundation
import Synchronization

/// The leases of one pass's notifications while they are being delivered: what the heartbeat
/// renews, when each lease ends as far as the dispatcher knows, which were taken over, and when each send
/// must stop.
///
/// Each notification is delivered by a task of its own, kept here with its lease: a lost lease cancels it at
/// once, and one task per pass (``enforceSendDeadlines(ticking:tick:)``) cancels the sends whose deadlines passed, so no send
/// needs a task or a timer of its own for its timeout.
final class InFlightLeases: Sendable {
    private struct Lease {
        var expiresAt: Date
        var lost = false
        /// The task delivering the notification, cancelled when the lease is lost or the send's deadline passes.
        var delivery: Task<Void, Never>?
        /// When the running send must stop; `nil` while no send runs.
        var sendDeadline: ContinuousClock.Instant?
        /// Whether the send was cancelled because its deadline passed.
        var timedOut = false
    }

    private let leases = Mutex<[Int64: Lease]>([:])
    private let passCancelled = Atomic<Bool>(false)
    /// How long each send may take.
    let sendTimeout: Duration

    /// The leases of a pass whose sends may each take `sendTimeout`.
    init(sendTimeout: Duration) {
        self.sendTimeout = sendTimeout
    }

    /// Starts tracking a notification whose lease ends at `expiresAt`; the heartbeat renews it from now on.
    func begin(_ id: Int64, expiresAt: Date) {
        leases.withLock { $0[id] = Lease(expiresAt: expiresAt) }
    }

    /// Keeps the task delivering `id`, to cancel it when the lease is lost or the send's deadline passes; cancels
    /// it at once when either happened already (the task may have started its send before it was attached).
    /// Ignored once `id` is no longer tracked.
    func attach(_ delivery: Task<Void, Never>, to id: Int64) {
        let cancelNow = leases.withLock { leases -> Bool in
            guard var lease = leases[id] else { return false }
            lease.delivery = delivery
            leases[id] = lease
            return lease.lost || lease.timedOut
        }
        if cancelNow { delivery.cancel() }
    }

    /// Stops tracking a notification (before its outcome is recorded); returns whether its lease was lost.
    func end(_ id: Int64) -> Bool {
        leases.withLock { $0.removeValue(forKey: id) }?.lost ?? false
    }

    /// The notifications being delivered whose leases are still held.
    var held: [Int64] {
        leases.withLock { leases in leases.compactMap { $0.value.lost ? nil : $0.key } }
    }

    /// Whether the lease of `id` was taken over while it was in flight.
    func isLost(_ id: Int64) -> Bool {
        leases.withLock { $0[id]?.lost ?? false }
    }

    /// Whether the lease of `id` is held and lasts at least `duration` beyond `now`.
    func holds(_ id: Int64, for duration: Duration, after now: Date) -> Bool {
        leases.withLock { leases in
            guard let lease = leases[id], !lease.lost else { return false }
            return lease.expiresAt.timeIntervalSince(now) >= duration.timeInterval
        }
    }

    /// Records that the store renewed the leases of `ids` until `expiresAt`.
    func renewed(_ ids: Set<Int64>, until expiresAt: Date) {
        leases.withLock { leases in
            for id in ids {
                guard var lease = leases[id] else { continue }
                lease.expiresAt = max(lease.expiresAt, expiresAt)
                leases[id] = lease
            }
        }
    }

    /// Marks the leases of `ids` as lost and cancels their deliveries; returns those still in flight that
    /// were not already lost (ids finished meanwhile are ignored).
    func lose(_ ids: Set<Int64>) -> [Int64] {
        let newlyLost = leases.withLock { leases -> [(Int64, Task<Void, Never>?)] in
            var newlyLost: [(Int64, Task<Void, Never>?)] = []
            for id in ids.sorted() {
                guard var lease = leases[id], !lease.lost else { continue }
                lease.lost = true
                newlyLost.append((id, lease.delivery))
                leases[id] = lease
            }
            return newlyLost
        }
        for (_, delivery) in newlyLost { delivery?.cancel() }
        return newlyLost.map(\.0)
    }

    /// Cancels every delivery in flight: the pass was cancelled.
    func cancelAll() {
        passCancelled.store(true, ordering: .releasing)
        let deliveries = leases.withLock { leases in leases.values.compactMap(\.delivery) }
        for delivery in deliveries { delivery.cancel() }
    }

    /// Whether ``cancelAll()`` was called: the pass was cancelled.
    var wasCancelled: Bool { passCancelled.load(ordering: .acquiring) }

    /// Starts the send of `id`: it must end within ``sendTimeout`` from now, or ``enforceSendDeadlines(ticking:tick:)`` cancels
    /// its delivery (which must run while sends do).
    func startSend(_ id: Int64) {
        leases.withLock { $0[id]?.sendDeadline = ContinuousClock.now + sendTimeout }
    }

    /// Ends the send of `id`; returns whether its deadline passed and its delivery was cancelled for it.
    func endSend(_ id: Int64) -> Bool {
        leases.withLock { leases in
            guard var lease = leases[id] else { return false }
            let timedOut = lease.timedOut
            lease.sendDeadline = nil
            lease.timedOut = false
            leases[id] = lease
            return timedOut
        }
    }

    /// Cancels the delivery of each send whose deadline has passed, until cancelled: the pass runs it beside its
    /// sends. With `interval`, it also calls `tick` each time that much more of the pass has gone by: the pass's one
    /// timer serves both.
    ///
    /// It sleeps until the earliest deadline or tick, or for ``sendTimeout`` when no send runs. A send that starts
    /// during that sleep has a deadline no earlier than its end (both instants are read under the same lock), so
    /// no deadline is passed over.
    func enforceSendDeadlines(ticking interval: Duration? = nil, tick: @Sendable () -> Void = {}) async {
        // At least 10 ms between ticks: a zero interval would spin.
        let interval = interval.map { max($0, .milliseconds(10)) }
        var nextTick = interval.map { ContinuousClock.now + $0 }
        while true {
            if let due = nextTick, let interval, due <= ContinuousClock.now {
                tick()
                nextTick = ContinuousClock.now + interval
            }
            let (expired, wakeAt) = leases.withLock { leases in
                let now = ContinuousClock.now
                var wakeAt = min(now + sendTimeout, nextTick ?? now + sendTimeout)
                var expired: [Task<Void, Never>] = []
                for index in leases.indices {
                    guard let deadline = leases.values[index].sendDeadline else { continue }
                    if deadline <= now {
                        leases.values[index].sendDeadline = nil
                        leases.values[index].timedOut = true
                        if let delivery = leases.values[index].delivery { expired.append(delivery) }
                    } else {
                        wakeAt = min(wakeAt, deadline)
                    }
                }
                return (expired, wakeAt)
            }
            for delivery in expired { delivery.cancel() }
            do { try await Task.sleep(until: wakeAt, clock: .continuous) } catch { return }
        }
    }
}
