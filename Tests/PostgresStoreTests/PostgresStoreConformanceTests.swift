import BookingConformance
import BookingDomain
import PostgresNIO
import PostgresStore
import TestSupport
import Testing

let postgresSuite = BookingConformance(capabilities: [.reopen, .schemaMigrations]) {
    var created = try await PostgresTestDatabase.create()
    // The checks ask for health as an invariant, not a latency: the 1 s default failed once with two test runs
    // sharing one cluster on two cores (the fault tests bound the health check themselves).
    created.healthTimeout = .seconds(30)
    let configuration = created
    let first = try await PostgresTestDatabase.opening(configuration) { try await RunningStore(configuration) }
    let reopened = ReopenedStores()
    return StoreUnderTest(
        store: first.store,
        reopen: {
            await first.stop()
            let again = try await RunningStore(configuration)
            await reopened.add(again)
            return again.store
        },
        schema: SchemaHooks(
            openTogether: { count in
                let fresh = try await PostgresTestDatabase.create()
                await reopened.addDatabase(fresh)
                let stores = try await withThrowingTaskGroup(of: RunningStore.self) { group in
                    for _ in 0..<count { group.addTask { try await RunningStore(fresh) } }
                    return try await group.reduce(into: [RunningStore]()) { $0.append($1) }
                }
                for store in stores { await reopened.add(store) }
                return stores.map(\.store)
            },
            appliedVersions: { store in
                try await (store as? PostgresStore)?.appliedMigrations().map(String.init) ?? []
            },
            recordNewerVersion: {
                try await first.store.client.query(
                    "INSERT INTO booking_schema_migrations (version, name) VALUES (999, 'from a newer release')",
                    logger: PostgresTestDatabase.logger)
            },
            openAgain: {
                let again = try await RunningStore(configuration, migrate: false)
                await reopened.add(again)
                try await again.store.migrate()
                return again.store
            }),
        tearDown: {
            await first.stop()
            await reopened.stopAll()
            await PostgresTestDatabase.drop(configuration)
        })
}

/// Stores opened by a reopen, stopped at teardown.
actor ReopenedStores {
    private var stores: [RunningStore] = []
    private var databases: [PostgresStore.Configuration] = []
    func add(_ store: RunningStore) { stores.append(store) }
    func addDatabase(_ database: PostgresStore.Configuration) { databases.append(database) }
    func stopAll() async {
        for store in stores { await store.stop() }
        for database in databases { await PostgresTestDatabase.drop(database) }
    }
}

@Test("PostgresStore passes the conformance check", arguments: postgresSuite.checks)
func postgresConformance(_ check: ConformanceCheck) async throws {
    try await postgresSuite.run(check)
}
