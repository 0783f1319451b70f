import Testing

@testable import PostgresStore

@Suite("the lease watchdog: one task for every lease in flight, none when idle")
struct LeaseWatchdogTests {
    @Test("a wait with no connection is abandoned once its deadline passes, not before")
    func abandonsAfterTheDeadline() async throws {
        let watchdog = ConnectionLease.Watchdog()
        let early = ConnectionLease.Race()
        let late = ConnectionLease.Race()
        let started = ContinuousClock.now
        let earlyID = watchdog.watch(early, waitingUntil: started + .milliseconds(100), holdingAtMost: nil)
        let lateID = watchdog.watch(late, waitingUntil: started + .seconds(30), holdingAtMost: nil)
        #expect(await early.verdict() == .abandoned)
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        late.finish()  // the other operation ended by itself: its verdict is not the watchdog's to change
        #expect(await late.verdict() == .finished)
        watchdog.release(earlyID)
        watchdog.release(lateID)
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
