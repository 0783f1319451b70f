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
        guard let store = try benchmarkPostgresStore(poolSize: max(clients.max() ?? 1, 2)) else { return }
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let runner = Task { await store.run() }
        defer { runner.cancel() }
        try await store.migrate()
        print("PostgreSQL, \(count) bookings per run (appointment + notification in one transaction, fsync on)")
        // Slots of a run start after every slot already in the table, so runs never meet.
        var base: Int64 = 4_000_000_000_000
        let latest = try await store.client.query(
            "SELECT (EXTRACT(EPOCH FROM max(slot_end)) * 1000)::BIGINT FROM appointments", logger: logger)
        for try await value in latest.decode(Int64?.self) { base = max(base, value ?? 0) }
        for clients in clients {
            let runBase = base
            // The next run starts past this one's slots: its warm-up and its bookings, 30 minutes each.
            base += Int64(count + clients) * 1_800_000
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
