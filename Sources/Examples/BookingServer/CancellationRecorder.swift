import ServiceLifecycle
import Synchronization

/// Runs a service and remembers whether its group cancelled it: a group cancels its services only when its graceful
/// shutdown passes `maximumGracefulShutdownDuration` (or another service failed), never in a shutdown that ends in time.
final class CancellationRecorder<Wrapped: Service>: Service {
    private let wrapped: Wrapped
    private let cancelled = Mutex(false)

    /// Records `wrapped`.
    init(_ wrapped: Wrapped) {
        self.wrapped = wrapped
    }

    /// Whether the run was cancelled before it ended.
    var wasCancelled: Bool { cancelled.withLock { $0 } }

    func run() async throws {
        defer { if Task.isCancelled { cancelled.withLock { $0 = true } } }
        try await wrapped.run()
    }
}
