import PostgresNIO
import Synchronization

/// Watches every operation of one store's ``ConnectionLease`` from one task, so an operation arms no timer and
/// starts no task of its own for it. With a task and a timer per operation (sleeping until the deadline,
/// cancelled when the operation ended first), libdispatch's timer thread alone took 6.9% of booking-server's
/// samples under availability requests on PostgreSQL, and the server spent 388-444 µs of CPU per request
/// against 304-359 µs with one watchdog (BENCHMARKS.md, session 16).
///
/// For each operation it watches, once the operation's wait for a connection runs out: a wait still going is
/// abandoned, and from then on, while the operation holds its connection, the connection is checked on every
/// round (at most ``round`` apart): closed for half a second, or held longer than the operation's hold bound past
/// that deadline, it is lost. A round comes at the earliest deadline it knew of when it planned, and at most
/// ``round`` after the one before, so a deadline that arrived meanwhile is acted on at most one round late (the old
/// per-operation timer acted on it at once). The task runs while operations are watched, and ends when none is.
final class ConnectionWatchdog: Sendable {
    /// The most time between two rounds while operations are watched.
    static let round: Duration = .milliseconds(100)

    /// How long a held connection may be seen closed before its operation is lost.
    static let closedGrace: Duration = .milliseconds(500)

    private struct Watch {
        let race: ConnectionLease.Race
        let deadline: ContinuousClock.Instant
        let hold: Duration?
        /// When a round first saw the held connection closed.
        var closedSince: ContinuousClock.Instant?
    }

    private struct State {
        var watches: [Int: Watch] = [:]
        var nextID = 0
        /// Whether the task making the rounds runs.
        var patrolling = false
    }

    private let state = Mutex(State())

    /// Creates a watchdog that watches nothing yet.
    init() {}

    /// Watches `race` until ``stopWatching(_:)``: its wait ends at `deadline`, and from then on it may hold its
    /// connection for `hold` (without bound when `nil`). Returns the watch's key.
    func watch(_ race: ConnectionLease.Race, deadline: ContinuousClock.Instant, hold: Duration?) -> Int {
        let (key, starts) = state.withLock { state -> (Int, Bool) in
            let key = state.nextID
            state.nextID &+= 1
            state.watches[key] = Watch(race: race, deadline: deadline, hold: hold)
            guard !state.patrolling else { return (key, false) }
            state.patrolling = true
            return (key, true)
        }
        // Detached: the rounds take on no priority or task-local values of whichever operation came first.
        if starts { Task.detached { await self.patrol() } }
        return key
    }

    /// Whether the task making the rounds runs (for tests).
    var isPatrolling: Bool { state.withLock { $0.patrolling } }

    /// Stops watching the operation of `key`.
    func stopWatching(_ key: Int) {
        state.withLock { _ = $0.watches.removeValue(forKey: key) }
    }

    /// Makes rounds until nothing is watched.
    private func patrol() async {
        while let next = makeRound(at: .now) {
            try? await Task.sleep(until: next, tolerance: .milliseconds(10), clock: .continuous)
        }
    }

    /// One round at `now`: abandons the waits past their deadline and loses the operations whose connection died
    /// or outlived their hold; returns when the next round is due, or `nil` (and stops patrolling) when nothing is
    /// watched.
    private func makeRound(at now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        var lost: [ConnectionLease.Race] = []
        let next = state.withLock { state -> ContinuousClock.Instant? in
            guard !state.watches.isEmpty else {
                state.patrolling = false
                return nil
            }
            var next = now + Self.round
            var ended: [Int] = []
            for (key, var watch) in state.watches {
                guard now >= watch.deadline else {
                    next = min(next, watch.deadline)
                    continue
                }
                // Abandoned only while still waiting (the race decides under its own lock, and resumes its
                // caller, which just enqueues it); a connection taken before that is watched from now on.
                watch.race.abandon()
                guard let connection = watch.race.heldConnection else {
                    ended.append(key)  // abandoned now, or decided before: nothing more to watch
                    continue
                }
                if connection.isClosed, watch.closedSince == nil {
                    watch.closedSince = now
                    state.watches[key] = watch
                }
                let outlived = watch.hold.map { now - watch.deadline >= $0 } ?? false
                let dead = watch.closedSince.map { now - $0 >= Self.closedGrace } ?? false
                if outlived || dead {
                    lost.append(watch.race)
                    ended.append(key)
                }
            }
            for key in ended { state.watches.removeValue(forKey: key) }
            return next
        }
        // Closing a connection is the pool's and the event loop's business: outside the lock.
        for race in lost { race.lose() }
        return next
    }
}
