import ServiceLifecycle

/// A service that starts only once the migrations are applied (the dispatcher must not poll a missing table).
struct AfterMigrations: Service {
    let gate: MigrationGate
    let service: any Service

    func run() async throws {
        try await gate.wait()
        try await service.run()
    }
}
