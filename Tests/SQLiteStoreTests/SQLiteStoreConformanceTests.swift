import BookingConformance
import BookingDomain
import GRDB
import SQLiteStore
import TestSupport
import Testing

/// The stores of the checks, and of every test racing many writes, wait up to 60 s for the database, not the default
/// 5 s: a write's wait for the writer's queue counts against it, and 100 or 200 writes at once (two stores on one
/// file taking turns at its lock, each commit flushed to a disk the PostgreSQL suites share), on a machine busy with
/// every other suite, could spend 5 s there (busy timeouts have tests of their own in SQLiteStoreTests).
let racingConfiguration = SQLiteStore.Configuration(busyTimeout: .seconds(60))

let fileSuite = BookingConformance(capabilities: [.reopen, .schemaMigrations]) {
    let directory = try TemporaryDirectory()
    let path = directory.file("booking.sqlite")
    let store = try SQLiteStore(location: .file(path), configuration: racingConfiguration)
    return StoreUnderTest(
        store: store,
        reopen: {
            try store.close()
            return try SQLiteStore(location: .file(path), configuration: racingConfiguration)
        },
        schema: SchemaHooks(
            openTogether: { count in
                let fresh = directory.file("together.sqlite")
                return try await withThrowingTaskGroup(of: SQLiteStore.self) { group in
                    // Each open on a thread of its own: truly at once, and a wait for another's lock blocks no
                    // shared thread.
                    for _ in 0..<count {
                        group.addTask {
                            try await onOwnThread { () throws(BookingError) in
                                try SQLiteStore(location: .file(fresh), configuration: racingConfiguration)
                            }
                        }
                    }
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
            openAgain: { try SQLiteStore(location: .file(path), configuration: racingConfiguration) }),
        tearDown: { directory.remove() })
}

let inMemorySQLiteSuite = BookingConformance {
    StoreUnderTest(store: try SQLiteStore(location: .inMemory, configuration: racingConfiguration))
}

@Test("a file-backed SQLite store passes the conformance check", arguments: fileSuite.checks)
func sqliteFileConformance(_ check: ConformanceCheck) async throws {
    try await fileSuite.run(check)
}

@Test("an in-memory SQLite store passes the conformance check", arguments: inMemorySQLiteSuite.checks)
func sqliteInMemoryConformance(_ check: ConformanceCheck) async throws {
    try await inMemorySQLiteSuite.run(check)
}
