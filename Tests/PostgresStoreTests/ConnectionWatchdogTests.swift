import Testing

@testable import PostgresStore

/// How ``ConnectionWatchdog`` decides the waits of ``ConnectionLease``, without a database. (A held connection
/// that dies or outlives its bound is the fault tests' part: it needs a server to lose.)
@Suite("One watchdog for every connection wait")
struct ConnectionWatchdogTests {
    /// Generous on a shared machine: a round is 100 ms, a late wake-up on a busy machine a few more.
    let slack: Duration = .seconds(2)

    /// Whether `race` is abandoned within `slack`; `false` when another verdict comes or none does (a watchdog that
    /// never acts fails the test instead of hanging it: a verdict's wait cannot be cancelled).
    func abandoned(_ race: ConnectionLease.Race) async -> Bool {
        await withTaskGroup(of: Bool?.self) { group in
            group.addTask {
                if case .abandoned = await race.verdict() { return true }
                return false
            }
            group.addTask { [slack] in
                try? await Task.sleep(for: slack)
                return nil
            }
            let first = await group.next() ?? nil
            // A verdict that never comes would keep the group waiting: decide the race so it comes.
            race.finish()
            group.cancelAll()
            return first ?? false
        }
    }

    @Test("a wait past its deadline is abandoned within a round; one that ended first is left as it ended")
    func abandonsAtDeadline() async {
        let watchdog = ConnectionWatchdog()
        let waiting = ConnectionLease.Race()
        let ended = ConnectionLease.Race()
        let started = ContinuousClock.now
        let first = watchdog.watch(waiting, deadline: started + .milliseconds(50), hold: nil)
        let second = watchdog.watch(ended, deadline: started + .milliseconds(50), hold: nil)
        ended.finish()
        #expect(await abandoned(waiting))
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(50))
        #expect(elapsed < .milliseconds(50) + slack)
        if case .finished = await ended.verdict() {} else { Issue.record("an ended operation was abandoned") }
        watchdog.stopWatching(first)
        watchdog.stopWatching(second)
    }

    @Test("a short wait watched after a long one is abandoned at its own deadline, not the long one's")
    func shortAfterLong() async {
        let watchdog = ConnectionWatchdog()
        let long = ConnectionLease.Race()
        let short = ConnectionLease.Race()
        let started = ContinuousClock.now
        let longWatch = watchdog.watch(long, deadline: started + .seconds(30), hold: nil)
        // After the watchdog planned its next round for the long wait.
        try? await Task.sleep(for: .milliseconds(20))
        let shortWatch = watchdog.watch(short, deadline: .now + .milliseconds(30), hold: nil)
        #expect(await abandoned(short))
        #expect(ContinuousClock.now - started < slack)
        long.finish()
        if case .finished = await long.verdict() {} else { Issue.record("the long wait was abandoned early") }
        watchdog.stopWatching(longWatch)
        watchdog.stopWatching(shortWatch)
    }

    @Test("after every watch stopped, a new one is still abandoned at its deadline")
    func watchesAgainAfterIdle() async {
        let watchdog = ConnectionWatchdog()
        let first = ConnectionLease.Race()
        let firstWatch = watchdog.watch(first, deadline: .now + .seconds(30), hold: nil)
        first.finish()
        watchdog.stopWatching(firstWatch)
        // Long enough for the rounds to find nothing watched and stop.
        try? await Task.sleep(for: ConnectionWatchdog.round * 3)
        let second = ConnectionLease.Race()
        let started = ContinuousClock.now
        let secondWatch = watchdog.watch(second, deadline: started + .milliseconds(30), hold: nil)
        #expect(await abandoned(second))
        #expect(ContinuousClock.now - started < slack)
        watchdog.stopWatching(secondWatch)
    }
}
