import PostgresNIO
import Synchronization

/// Watches every operation of one store's ``ConnectionLease`` from one task, so an operation arms no timer and
/// starts no task of its own for it: a timer per operation (a task sleeping until its deadline, cancelled when the
/// operation ended first) cost the server a fifth of its CPU per query on PostgreSQL.
///
/// For each operation it watches, once the operation's wait for a connection runs out: a wait still going is
/// abandoned, and from then on, while the operation holds its connection, the connection is checked on every
/// round (at most ``round`` apart): closed for half a second, or held longer than the operation's hold bound past
/// that deadline, it is lost. A round comes at the earliest deadline still waiting, and at most ``round`` after
/// the one before, so a deadline is acted on at most that late. The task runs while operations are watched, and
/// ends when none is.
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
        if starts { Task { await self.patrol() } }
        return key
    }

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
        var abandoned: [ConnectionLease.Race] = []
        var lost: [ConnectionLease.Race] = []
        let next = state.withLock { state -> ContinuousClock.Instant? in
            guard !state.watches.isEmpty else {
                state.patrolling = false
                return nil
            }
            var next = now + Self.round
            for (key, watch) in state.watches {
                guard now >= watch.deadline else {
                    next = min(next, watch.deadline)
                    continue
                }
                guard let connection = watch.race.heldConnection else {
                    // Still waiting (abandoned now), or decided: nothing more to watch either way.
                    abandoned.append(watch.race)
                    state.watches.removeValue(forKey: key)
                    continue
                }
                if connection.isClosed, state.watches[key]?.closedSince == nil {
                    state.watches[key]?.closedSince = now
                }
                let outlived = watch.hold.map { now - watch.deadline >= $0 } ?? false
                let dead = state.watches[key]?.closedSince.map { now - $0 >= Self.closedGrace } ?? false
                if outlived || dead {
                    lost.append(watch.race)
                    state.watches.removeValue(forKey: key)
                }
            }
            return next
        }
        for race in abandoned { race.abandon() }
        for race in lost { race.lose() }
        return next
    }
}
