import Synchronization

/// Holds the store's connection leases until its `PostgresClient` runs.
///
/// PostgresNIO logs a warning for every lease asked for before `PostgresClient.run()` (and queues it anyway).
/// A server's first leases, its migrations and the outbox `LISTEN`, start beside the store's ``PostgresStore/run()``,
/// so without the gate every start of a server on PostgreSQL could log that warning.
final class PoolStartGate: Sendable {
    private let opened = Atomic<Bool>(false)

    /// How often a waiting lease looks again: only leases asked for before the store runs ever wait.
    static let pollInterval: Duration = .milliseconds(2)

    /// Whether leases go through: the store runs.
    var isOpen: Bool { opened.load(ordering: .acquiring) }

    /// Lets every lease through from now on.
    func open() {
        opened.store(true, ordering: .releasing)
    }

    /// Returns once the gate is open, at once when it already is; throws `CancellationError` when the task is
    /// cancelled first (a wait for a connection that ran out of time).
    func waitUntilOpen() async throws {
        while !opened.load(ordering: .acquiring) {
            try await Task.sleep(for: Self.pollInterval)
        }
    }
}
