import BookingConformance
import BookingDomain
import InMemoryStore
import Testing

let inMemorySuite = BookingConformance { StoreUnderTest(store: InMemoryStore()) }

@Test("the in-memory store passes the conformance check", arguments: inMemorySuite.checks)
func inMemoryConformance(_ check: ConformanceCheck) async throws {
    try await inMemorySuite.run(check)
}

@Test(
    "the in-memory store claims no durability and no schema, so the reopen and migration checks are not among its checks"
)
func inMemoryStoreSkipsOnlyReopen() {
    #expect(
        Set(Set(ConformanceCheck.all).subtracting(inMemorySuite.checks).map(\.name)) == [
            "survivesReopen", "rescheduleSurvivesReopen", "migrationsRunOnceWhenStoresStartTogether",
            "newerSchemaIsRefused",
        ])
}
