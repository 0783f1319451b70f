import BookingDomain
import Foundation
import InMemoryStore
import Logging
import PostgresNIO
import PostgresStore
import SQLiteStore

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
            guard let url = ProcessInfo.processInfo.environment["BOOKING_POSTGRES_URL"] else {
                throw BookingError.storeUnavailable("BOOKING_POSTGRES_URL is not set: run through scripts/test")
            }
            let logger = Logger(label: "server-tests", factory: { _ in SwiftLogNoOpLogHandler() })
            var admin = try PostgresStore.Configuration(url: url)
            admin.tls = .disable
            admin.poolSize = 2
            // Suites run in parallel on two cores: give waits room (latency is not what these tests check).
            admin.connectionWaitTimeout = .seconds(30)
            admin.lockTimeout = .seconds(30)
            let adminStore = PostgresStore(configuration: admin, logger: logger)
            let adminRunner = Task { await adminStore.client.run() }
            let name = "booking_http_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            try await adminStore.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            var configuration = admin
            configuration.database = name
            configuration.poolSize = 8
            let store = PostgresStore(configuration: configuration, logger: logger)
            let runner = Task { await store.run() }
            try await store.migrate()
            return (
                store,
                {
                    runner.cancel()
                    await runner.value
                    _ = try? await adminStore.client.query(
                        PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
                    adminRunner.cancel()
                    await adminRunner.value
                }
            )
        }
    }
}
