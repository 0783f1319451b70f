import Testing

@testable import PostgresStore

@Suite("the lease watchdog: one task for every lease in flight, none when idle", .timeLimit(.minutes(1)))
struct LeaseWatchdogTests {
    @Test("a wait with no connection is abandoned once its deadline passes, not before; a decided lease stays decided")
    func abandonsAfterTheDeadline() async throws {
        let watchdog = ConnectionLease.Watchdog()
        let waiting = ConnectionLease.Race()
        let ended = ConnectionLease.Race()
        let started = ContinuousClock.now
        let waitingID = watchdog.watch(waiting, waitingUntil: started + .milliseconds(100), holdingAtMost: nil)
        let endedID = watchdog.watch(ended, waitingUntil: started + .milliseconds(100), holdingAtMost: nil)
        ended.finish()  // this operation ended by itself before its deadline
        #expect(await waiting.verdict() == .abandoned)
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        // Past the deadline by more than a tick, the watchdog has seen the ended lease: its verdict stands.
        try await Task.sleep(for: ConnectionLease.Watchdog.tick * 3)
        #expect(await ended.verdict() == .finished)
        watchdog.release(waitingID)
        watchdog.release(endedID)
    }

    @Test("the task ends a tick after the last lease is released, and starts again for the next")
    func stopsWhenIdle() async throws {
        let watchdog = ConnectionLease.Watchdog()
        #expect(!watchdog.isTicking)
        let race = ConnectionLease.Race()
        let id = watchdog.watch(race, waitingUntil: .now + .seconds(30), holdingAtMost: nil)
        #expect(watchdog.isTicking)
        race.finish()
        watchdog.release(id)
        var waited = Duration.zero
        while watchdog.isTicking && waited < .seconds(5) {
            try await Task.sleep(for: ConnectionLease.Watchdog.tick)
            waited += ConnectionLease.Watchdog.tick
        }
        #expect(!watchdog.isTicking, "still ticking \(waited) after the last release")
        let next = ConnectionLease.Race()
        let nextID = watchdog.watch(next, waitingUntil: .now + .milliseconds(50), holdingAtMost: nil)
        #expect(await next.verdict() == .abandoned)
        watchdog.release(nextID)
    }
}
