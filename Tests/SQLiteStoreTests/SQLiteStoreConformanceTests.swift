import BookingConformance
import BookingDomain
import SQLiteStore
import Testing

let fileSuite = BookingConformance(capabilities: [.reopen]) {
    let directory = try TemporaryDirectory()
    let path = directory.file("booking.sqlite")
    let store = try SQLiteStore(location: .file(path))
    return StoreUnderTest(
        store: store,
        reopen: {
            try store.close()
            return try SQLiteStore(location: .file(path))
        },
        tearDown: { directory.remove() })
}

let inMemorySQLiteSuite = BookingConformance { StoreUnderTest(store: try SQLiteStore(location: .inMemory)) }

@Test("a file-backed SQLite store passes the conformance check", arguments: fileSuite.checks)
func sqliteFileConformance(_ check: ConformanceCheck) async throws {
    try await fileSuite.run(check)
}

@Test("an in-memory SQLite store passes the conformance check", arguments: inMemorySQLiteSuite.checks)
func sqliteInMemoryConformance(_ check: ConformanceCheck) async throws {
    try await inMemorySQLiteSuite.run(check)
}
