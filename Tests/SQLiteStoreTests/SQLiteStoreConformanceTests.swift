import BookingConformance
import BookingDomain
import GRDB
import SQLiteStore
import Testing

let fileSuite = BookingConformance(capabilities: [.reopen, .schemaMigrations]) {
    let directory = try TemporaryDirectory()
    let path = directory.file("booking.sqlite")
    let store = try SQLiteStore(location: .file(path))
    return StoreUnderTest(
        store: store,
        reopen: {
            try store.close()
            return try SQLiteStore(location: .file(path))
        },
        schema: SchemaHooks(
            openTogether: { count in
                let fresh = directory.file("together.sqlite")
                return try await withThrowingTaskGroup(of: SQLiteStore.self) { group in
                    for _ in 0..<count { group.addTask { try SQLiteStore(location: .file(fresh)) } }
                    return try await group.reduce(into: [any BookingStore]()) { $0.append($1) }
                }
            },
            appliedVersions: { store in try await (store as? SQLiteStore)?.appliedMigrations() ?? [] },
            recordNewerVersion: {
                let queue = try DatabaseQueue(path: path)
                try await queue.write { db in
                    try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v999-from-a-newer-release')")
                }
                try queue.close()
            },
            openAgain: { try SQLiteStore(location: .file(path)) }),
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
