import ServiceLifecycle
import UnixSignals

/// Cuts a graceful shutdown short on a second SIGTERM or SIGINT, as SIGQUIT does: an operator who presses Ctrl-C twice
/// is not kept waiting up to `--shutdown-timeout-seconds` for what is in flight.
///
/// The first of those signals begins the service group's graceful shutdown; this service counts it and, on the next,
/// throws ``Repeated``, which cancels the group. The first in the group's list, it is the last told to stop, so it
/// listens until every other service has finished.
struct RepeatedSignal: Service {
    /// A second SIGTERM or SIGINT came during the shutdown.
    struct Repeated: Error {}

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var seen = 0
                for await _ in signals {
                    seen += 1
                    if seen == 2 { throw Repeated() }
                }
            }
            // Told to stop once every other service has finished: nothing is left to cut short.
            group.addTask { try? await gracefulShutdown() }
            try await group.next()
            group.cancelAll()
        }
    }
}
