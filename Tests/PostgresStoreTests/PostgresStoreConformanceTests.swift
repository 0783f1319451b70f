import BookingConformance
import BookingDomain
import PostgresStore
import Testing

let postgresSuite = BookingConformance(capabilities: [.reopen]) {
    let configuration = try await PostgresTestDatabase.create()
    let first = try await RunningStore(configuration)
    let reopened = ReopenedStores()
    return StoreUnderTest(
        store: first.store,
        reopen: {
            await first.stop()
            let again = try await RunningStore(configuration)
            await reopened.add(again)
            return again.store
        },
        tearDown: {
            await first.stop()
            await reopened.stopAll()
            await PostgresTestDatabase.drop(configuration)
        })
}

/// Stores opened by a reopen, stopped at teardown.
actor ReopenedStores {
    private var stores: [RunningStore] = []
    func add(_ store: RunningStore) { stores.append(store) }
    func stopAll() async { for store in stores { await store.stop() } }
}

@Test("PostgresStore passes the conformance check", arguments: postgresSuite.checks)
func postgresConformance(_ check: ConformanceCheck) async throws {
    try await postgresSuite.run(check)
}
