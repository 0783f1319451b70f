import BookingDomain
import Foundation
import Logging
import PostgresNIO
import PostgresStore

/// PostgresStore's booking rate at the given numbers of concurrent clients: the store-level figure
/// `scripts/bench` sets beside pgbench writing the same rows.
struct PostgresBenchmark {
    let count: Int
    let clients: [Int]

    func run() async throws {
        guard let url = ProcessInfo.processInfo.environment["BOOKING_POSTGRES_URL"] else {
            print("BOOKING_POSTGRES_URL is not set: run through scripts/with-postgres")
            return
        }
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        var configuration = try PostgresStore.Configuration(url: url)
        configuration.tls = .disable
        configuration.poolSize = max(clients.max() ?? 1, 2)
        configuration.connectionWaitTimeout = .seconds(60)
        let store = PostgresStore(configuration: configuration, logger: logger)
        let runner = Task { await store.client.run() }
        defer { runner.cancel() }
        try await store.migrate()
        print("PostgreSQL, \(count) bookings per run (appointment + notification in one transaction, fsync on)")
        // Slots of a run never meet those of an earlier run on the same database.
        var base = Int64(Date().timeIntervalSince1970 * 1000) * 1000
        for clients in clients {
            base += 10_000_000_000
            let runBase = base
            // A warm-up opens the pool's connections, so the figure is the steady rate.
            _ = try await concurrently(clients, count: clients) { index in
                _ = try await store.insert(try appointment(index, base: runBase))
            }
            let storeRate = try await concurrently(clients, count: count) { index in
                _ = try await store.insert(try appointment(clients + index, base: runBase))
            }
            report("PostgresStore, \(clients) concurrent clients", storeRate)
        }
    }

    private func concurrently(_ clients: Int, count: Int, _ body: @escaping @Sendable (Int) async throws -> Void)
        async throws -> Double
    {
        try await rate(count) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        for index in stride(from: client, to: count, by: clients) { try await body(index) }
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}
