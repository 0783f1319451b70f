/// Runs the migrations once, however many services wait for them.
actor MigrationGate {
    private let migrate: @Sendable () async throws -> Void
    private var running: Task<Void, any Error>?

    init(_ migrate: @escaping @Sendable () async throws -> Void) { self.migrate = migrate }

    /// Returns when the migrations are applied; throws their error.
    func wait() async throws {
        if running == nil { running = Task { try await migrate() } }
        try await running?.value
    }
}
