import BookingConformance
import BookingDomain
import InMemoryStore
import Testing

let inMemorySuite = BookingConformance { StoreUnderTest(store: InMemoryStore()) }

@Test("the in-memory store passes the conformance check", arguments: inMemorySuite.checks)
func inMemoryConformance(_ check: ConformanceCheck) async throws {
    try await inMemorySuite.run(check)
}

@Test("the in-memory store claims no durability, so the reopen check is not among its checks")
func inMemoryStoreSkipsOnlyReopen() {
    #expect(Set(ConformanceCheck.all).subtracting(inMemorySuite.checks).map(\.name) == ["survivesReopen"])
}
