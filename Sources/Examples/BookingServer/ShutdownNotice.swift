import Logging
import ServiceLifecycle
import Synchronization

/// Says at notice level when graceful shutdown begins (SIGTERM, SIGINT), before the server stops taking requests and
/// the dispatcher finishes its sends, and remembers when: the lines of that shutdown are the service group's own, at
/// debug.
final class ShutdownNotice: Service {
    private let logger: Logger
    private let began = Mutex<ContinuousClock.Instant?>(nil)

    /// A notice that logs to `logger`.
    init(logger: Logger) {
        self.logger = logger
    }

    /// How long ago the graceful shutdown began; `nil` before it has.
    var elapsed: Duration? {
        began.withLock { $0 }.map { ContinuousClock.now - $0 }
    }

    func run() async throws {
        try? await gracefulShutdown()
        guard !Task.isCancelled else { return }
        began.withLock { $0 = .now }
        logger.notice("booking-server shutting down: finishing the requests and notification sends in flight")
    }
}
