import Foundation
import Synchronization

/// The leases of one pass's notifications while they are being delivered: what the heartbeat
/// renews, when each lease ends as far as the dispatcher knows, which were taken over, and when each send
/// must stop.
///
/// A send waits in ``waitUntilLost(_:)`` with its deadline, and one task per pass
/// (``enforceSendDeadlines()``) ends the waits whose deadlines passed: no send needs a task and a timer
/// of its own for its timeout.
final class InFlightLeases: Sendable {
    private struct Lease {
        var expiresAt: Date
        var lost = false
        /// The send waiting for its lease to be lost or its deadline to pass, and that deadline.
        var waiter: (continuation: CheckedContinuation<Bool, Never>, deadline: ContinuousClock.Instant)?
    }

    private let leases = Mutex<[Int64: Lease]>([:])
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

    /// Stops tracking a notification (before its outcome is recorded); returns whether its lease was lost.
    func end(_ id: Int64) -> Bool {
        let removed = leases.withLock { $0.removeValue(forKey: id) }
        removed?.waiter?.continuation.resume(returning: removed?.lost ?? false)
        return removed?.lost ?? false
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

    /// Marks the leases of `ids` as lost and wakes their sends; returns those still in flight that
    /// were not already lost (ids finished meanwhile are ignored).
    func lose(_ ids: Set<Int64>) -> [Int64] {
        let newlyLost = leases.withLock { leases -> [(Int64, CheckedContinuation<Bool, Never>?)] in
            var newlyLost: [(Int64, CheckedContinuation<Bool, Never>?)] = []
            for id in ids.sorted() {
                guard var lease = leases[id], !lease.lost else { continue }
                lease.lost = true
                newlyLost.append((id, lease.waiter?.continuation))
                lease.waiter = nil
                leases[id] = lease
            }
            return newlyLost
        }
        for (_, waiter) in newlyLost { waiter?.resume(returning: true) }
        return newlyLost.map(\.0)
    }

    /// Returns `true` as soon as the lease of `id` is lost, or `false` once ``sendTimeout`` has passed (as
    /// ``enforceSendDeadlines()`` finds it: it must run while sends wait), on cancellation, or when `id` is not
    /// tracked.
    func waitUntilLost(_ id: Int64) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let (answerNow, replaced) = leases.withLock {
                    leases -> (Bool?, CheckedContinuation<Bool, Never>?) in
                    guard var lease = leases[id] else { return (false, nil) }
                    guard !lease.lost else { return (true, nil) }
                    guard !Task.isCancelled else { return (false, nil) }
                    let replaced = lease.waiter?.continuation
                    lease.waiter = (continuation, ContinuousClock.now + sendTimeout)
                    leases[id] = lease
                    return (nil, replaced)
                }
                // One send waits per notification; an earlier wait, if any, ends as if its time had run out.
                replaced?.resume(returning: false)
                if let answerNow { continuation.resume(returning: answerNow) }
            }
        } onCancel: {
            let waiter = leases.withLock { leases -> CheckedContinuation<Bool, Never>? in
                let waiter = leases[id]?.waiter?.continuation
                leases[id]?.waiter = nil
                return waiter
            }
            waiter?.resume(returning: false)
        }
    }

    /// Ends each wait of ``waitUntilLost(_:)`` whose deadline has passed, until cancelled: the pass runs it
    /// beside its sends.
    ///
    /// It sleeps until the earliest deadline, or for ``sendTimeout`` when no send waits. A send that starts
    /// during that sleep has a deadline no earlier than its end (both instants are read under the same lock), so
    /// no deadline is passed over.
    func enforceSendDeadlines() async {
        while true {
            let (expired, wakeAt) = leases.withLock { leases in
                let now = ContinuousClock.now
                var wakeAt = now + sendTimeout
                var expired: [CheckedContinuation<Bool, Never>] = []
                for id in Array(leases.keys) {
                    guard let waiter = leases[id]?.waiter else { continue }
                    if waiter.deadline <= now {
                        expired.append(waiter.continuation)
                        leases[id]?.waiter = nil
                    } else {
                        wakeAt = min(wakeAt, waiter.deadline)
                    }
                }
                return (expired, wakeAt)
            }
            for waiter in expired { waiter.resume(returning: false) }
            do { try await Task.sleep(until: wakeAt, clock: .continuous) } catch { return }
        }
    }
}
