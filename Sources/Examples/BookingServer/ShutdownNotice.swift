import Logging
import ServiceLifecycle

/// Says at notice level when graceful shutdown begins (SIGTERM, SIGINT), before the server stops taking requests and
/// the dispatcher finishes its sends: the lines of that shutdown are the service group's own, at debug.
struct ShutdownNotice: Service {
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        guard !Task.isCancelled else { return }
        logger.notice("booking-server shutting down: finishing the requests and notification sends in flight")
    }
}
