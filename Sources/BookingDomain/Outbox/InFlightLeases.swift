import Foundation
import Synchronization

/// The leases of one pass's notifications while they are being delivered: what the heartbeat
/// renews, when each lease ends as far as the dispatcher knows, and which were taken over.
final class InFlightLeases: Sendable {
    private struct Lease {
        var expiresAt: Date
        var lost = false
        /// Yields once when the lease is lost.
        let lostSignal = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    private let leases = Mutex<[Int64: Lease]>([:])

    /// Starts tracking a notification whose lease ends at `expiresAt`; the heartbeat renews it from now on.
    func begin(_ id: Int64, expiresAt: Date) {
        leases.withLock { $0[id] = Lease(expiresAt: expiresAt) }
    }

    /// Stops tracking a notification (before its outcome is recorded); returns whether its lease was lost.
    func end(_ id: Int64) -> Bool {
        leases.withLock { $0.removeValue(forKey: id)?.lost ?? false }
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
        let signals = leases.withLock { leases -> [(Int64, AsyncStream<Void>.Continuation)] in
            var newlyLost: [(Int64, AsyncStream<Void>.Continuation)] = []
            for id in ids.sorted() {
                guard let lease = leases[id], !lease.lost else { continue }
                leases[id]?.lost = true
                newlyLost.append((id, lease.lostSignal.continuation))
            }
            return newlyLost
        }
        for (_, signal) in signals { signal.yield() }
        return signals.map(\.0)
    }

    /// Returns `true` as soon as the lease of `id` is lost, or `false` after `timeout` (or on cancellation).
    func waitUntilLost(_ id: Int64, timeout: Duration) async -> Bool {
        guard let signal = leases.withLock({ $0[id]?.lostSignal.stream }) else { return false }
        _ = await firstWithin(timeout) {
            for await _ in signal { return }
        }
        return isLost(id)
    }
}
