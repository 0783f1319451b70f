import Logging
import ServiceLifecycle

/// Says at notice level when graceful shutdown begins (SIGTERM, SIGINT), before the server stops taking requests and
/// the dispatcher finishes its sends, and warns if the shutdown is still going at its `timeout`, when what is left is
/// cancelled: the lines of that shutdown are the service group's own, at debug.
struct ShutdownNotice: Service {
    let logger: Logger
    /// How long the shutdown may wait for the work in flight (`--shutdown-timeout-seconds`).
    let timeout: Duration

    func run() async throws {
        try? await gracefulShutdown()
        guard !Task.isCancelled else { return }
        logger.notice(
            "booking-server shutting down: finishing the requests and notification sends in flight",
            metadata: ["timeout": "\(timeout)"])
        // Not awaited: this service returns now, so the others are told. A process that stops in time never says it.
        Task { [logger, timeout] in
            try? await Task.sleep(for: timeout)
            logger.warning(
                "booking-server still shutting down after \(timeout): cancelling what is in flight (requests unanswered now are cut off; a retry with the same Idempotency-Key finds out what became of a booking)"
            )
        }
    }
}
