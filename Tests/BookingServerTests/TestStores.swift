import BookingDomain
import Foundation
import InMemoryStore
import Logging
import PostgresNIO
import PostgresStore
import SQLiteStore
import TestSupport

/// The stores the HTTP suite runs on.
enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory, sqlite, postgres

    var description: String { rawValue }

    /// A fresh store and what tears it down.
    func make() async throws -> (store: any BookingStore, tearDown: @Sendable () async -> Void) {
        switch self {
        case .memory:
            return (InMemoryStore(), {})
        case .sqlite:
            let path = NSTemporaryDirectory() + "booking-server-test-\(UUID().uuidString).sqlite"
            return (
                try SQLiteStore(location: .file(path)),
                {
                    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
                }
            )
        case .postgres:
            // Four connections: an API case sends a few requests at a time, and the connections it does not take are
            // left to the suites beside it (at most twelve test databases are open at once; see TestDatabaseGate).
            let configuration = try await PostgresTestDatabase.create(poolSize: 4)
            let running = try await PostgresTestDatabase.opening(configuration) {
                try await RunningStore(configuration)
            }
            return (
                running.store,
                {
                    await running.stop()
                    await PostgresTestDatabase.drop(configuration)
                }
            )
        }
    }
}
