import PostgresNIO
import Synchronization

extension ConnectionLease {
    /// One task that watches every lease of a store in flight, instead of a timer per operation.
    ///
    /// Every ``tick`` it abandons each wait whose deadline passed, and from that deadline on it checks each
    /// held connection: closed for half a second, or held past its `hold`, it is lost (see
    /// ``ConnectionLease/run(on:watchdog:waitingAtMost:holdingAtMost:_:)``). The task runs only while a lease
    /// is registered and ends when the last one goes, so an idle store wakes no thread. A deadline may be
    /// acted on up to one tick late.
    final class Watchdog: Sendable {
        /// How often the registered leases are checked.
        static let tick = Duration.milliseconds(50)
        /// How long a held connection may be seen closed before it is lost.
        static let closedGrace = Duration.milliseconds(500)

        /// What the watchdog knows of one lease.
        private struct Watched {
            let race: Race
            /// When the wait for a connection ends, and the checks of a held connection begin.
            let waitDeadline: ContinuousClock.Instant
            /// How long the connection may be held from ``waitDeadline`` on; `nil`: without limit.
            let hold: Duration?
            /// When the held connection was first seen closed.
            var closedSince: ContinuousClock.Instant?
        }

        private struct State {
            var leases: [Int: Watched] = [:]
            var nextID = 0
            var ticking = false
        }

        private let state = Mutex(State())

        /// Watches `race` until ``release(_:)``: returns the id to release it by.
        func watch(_ race: Race, waitingUntil waitDeadline: ContinuousClock.Instant, holdingAtMost hold: Duration?)
            -> Int
        {
            let (id, start) = state.withLock { state in
                defer { state.nextID += 1 }
                state.leases[state.nextID] = Watched(race: race, waitDeadline: waitDeadline, hold: hold)
                let start = !state.ticking
                state.ticking = true
                return (state.nextID, start)
            }
            // Detached: the task serves every later lease too, so it takes neither the priority nor the task
            // locals of the operation that happens to start it.
            if start { Task.detached(priority: .high) { await self.run() } }
            return id
        }

        /// Whether the checking task runs: only while a lease is watched, and until its next tick after.
        var isTicking: Bool { state.withLock(\.ticking) }

        /// Stops watching the lease `id` (its verdict is in).
        func release(_ id: Int) {
            _ = state.withLock { $0.leases.removeValue(forKey: id) }
        }

        /// Checks the leases every tick until none is left.
        private func run() async {
            while true {
                try? await Task.sleep(for: Self.tick)
                let now = ContinuousClock.now
                let due: [(Race, Verdict)]? = state.withLock { state in
                    guard !state.leases.isEmpty else {
                        state.ticking = false
                        return nil
                    }
                    var due: [(Race, Verdict)] = []
                    for (id, var watched) in state.leases where now >= watched.waitDeadline {
                        guard let connection = watched.race.heldConnection else {
                            due.append((watched.race, .abandoned))  // still waiting, or decided: a no-op then
                            continue
                        }
                        if connection.isClosed, watched.closedSince == nil {
                            watched.closedSince = now
                            state.leases[id] = watched
                        }
                        let outlived = watched.hold.map { now - watched.waitDeadline >= $0 } ?? false
                        let closedTooLong = watched.closedSince.map { now - $0 >= Self.closedGrace } ?? false
                        if outlived || closedTooLong { due.append((watched.race, .lost)) }
                    }
                    return due
                }
                guard let due else { return }
                for (race, verdict) in due {
                    if verdict == .lost { race.lose() } else { race.abandon() }
                }
            }
        }
    }
}
