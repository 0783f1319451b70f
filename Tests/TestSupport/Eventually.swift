/// Polls `condition` every 20 ms until it holds or `seconds` have passed: waits for an event, never measures speed.
/// The deadline is wide (60 s by default) because a run of the whole suite can stall a task for seconds; it ends on
/// the event, so only a test that fails waits it out. The caller asserts the condition afterwards.
public func eventually(within seconds: Double = 60, _ condition: () async -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
}
