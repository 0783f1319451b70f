import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStore

/// How ``ConnectionWatchdog`` decides the operations of ``ConnectionLease``: waits without a database, held
/// connections on a real one.
@Suite("One watchdog for every connection wait")
struct ConnectionWatchdogTests {
    /// Generous: the full suite runs 300 tests at once on two cores, where a task may wake seconds late. A round is
    /// 100 ms; the long waits below are far longer than this.
    let slack: Duration = .seconds(10)

    /// The verdict `race` reaches within `slack`, or `nil` when none comes (a watchdog that never acts then fails
    /// the test instead of hanging it: the wait for a verdict cannot be cancelled, so the race is decided here).
    func verdict(of race: ConnectionLease.Race) async -> ConnectionLease.Verdict? {
        await withTaskGroup(of: ConnectionLease.Verdict?.self) { group in
            group.addTask { await race.verdict() }
            group.addTask { [slack] in
                try? await Task.sleep(for: slack)
                return nil
            }
            let first = await group.next() ?? nil
            race.finish()
            group.cancelAll()
            return first
        }
    }

    @Test("a wait past its deadline is abandoned, not before; one that ended first is left as it ended")
    func abandonsAtDeadline() async {
        let watchdog = ConnectionWatchdog()
        let waiting = ConnectionLease.Race()
        let ended = ConnectionLease.Race()
        let started = ContinuousClock.now
        let first = watchdog.watch(waiting, deadline: started + .milliseconds(50), hold: nil)
        let second = watchdog.watch(ended, deadline: started + .milliseconds(50), hold: nil)
        ended.finish()
        #expect(await verdict(of: waiting) == .abandoned)
        #expect(ContinuousClock.now - started >= .milliseconds(50))
        #expect(await ended.verdict() == .finished)
        watchdog.stopWatching(first)
        watchdog.stopWatching(second)
    }

    @Test(
        "a short wait watched after a long one is abandoned within a round of its own deadline, not at the long one's")
    func shortAfterLong() async {
        let watchdog = ConnectionWatchdog()
        let long = ConnectionLease.Race()
        let short = ConnectionLease.Race()
        let longWatch = watchdog.watch(long, deadline: .now + .seconds(60), hold: nil)
        // After the watchdog planned its next round for the long wait.
        try? await Task.sleep(for: .milliseconds(20))
        let shortWatch = watchdog.watch(short, deadline: .now + .milliseconds(30), hold: nil)
        // Within the slack of `verdict(of:)`, far short of the long wait's 60 s.
        #expect(await verdict(of: short) == .abandoned)
        long.finish()
        #expect(await long.verdict() == .finished, "the long wait was decided early")
        watchdog.stopWatching(longWatch)
        watchdog.stopWatching(shortWatch)
    }

    @Test("the rounds stop once nothing is watched, and a later watch starts them again")
    func watchesAgainAfterIdle() async throws {
        let watchdog = ConnectionWatchdog()
        let first = ConnectionLease.Race()
        let firstWatch = watchdog.watch(first, deadline: .now + .seconds(60), hold: nil)
        #expect(watchdog.isPatrolling)
        first.finish()
        watchdog.stopWatching(firstWatch)
        let stopBy = ContinuousClock.now + slack
        while watchdog.isPatrolling && ContinuousClock.now < stopBy {
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(!watchdog.isPatrolling, "the rounds went on with nothing watched")
        let second = ConnectionLease.Race()
        let secondWatch = watchdog.watch(second, deadline: .now + .milliseconds(30), hold: nil)
        #expect(await verdict(of: second) == .abandoned)
        watchdog.stopWatching(secondWatch)
    }

    /// Runs `body` with a connection of its own to the test server, on a client that is closed afterwards.
    func withConnection(_ body: @Sendable (PostgresConnection) async throws -> Void) async throws {
        let client = PostgresClient(
            configuration: try PostgresTestDatabase.serverConfiguration().clientConfiguration(poolSize: 1),
            backgroundLogger: PostgresTestDatabase.logger)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        try await client.withConnection { connection in try await body(connection) }
    }

    @Test("a connection taken before the deadline is watched after it: held past its bound, it is lost and closed")
    func heldPastBound() async throws {
        try await withConnection { connection in
            let watchdog = ConnectionWatchdog()
            let race = ConnectionLease.Race()
            #expect(race.take(connection))
            let deadline = ContinuousClock.now + .milliseconds(30)
            let watch = watchdog.watch(race, deadline: deadline, hold: .milliseconds(300))
            #expect(await verdict(of: race) == .lost)
            #expect(ContinuousClock.now - deadline >= .milliseconds(300))
            let closedBy = ContinuousClock.now + slack
            while !connection.isClosed && ContinuousClock.now < closedBy {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(connection.isClosed)
            watchdog.stopWatching(watch)
        }
    }

    @Test("a held connection seen closed for half a second is lost; one within its bound and open is left alone")
    func closedWhileHeld() async throws {
        try await withConnection { connection in
            let watchdog = ConnectionWatchdog()
            let open = ConnectionLease.Race()
            #expect(open.take(connection))
            let openWatch = watchdog.watch(open, deadline: .now, hold: .seconds(60))
            try await Task.sleep(for: ConnectionWatchdog.closedGrace + ConnectionWatchdog.round * 3)
            open.finish()
            #expect(await open.verdict() == .finished, "an open connection within its bound was given up")
            watchdog.stopWatching(openWatch)

            let closed = ConnectionLease.Race()
            #expect(closed.take(connection))
            try await connection.close()
            let closedAt = ContinuousClock.now
            let closedWatch = watchdog.watch(closed, deadline: closedAt, hold: nil)
            #expect(await verdict(of: closed) == .lost)
            #expect(ContinuousClock.now - closedAt >= ConnectionWatchdog.closedGrace)
            watchdog.stopWatching(closedWatch)
        }
    }
}
