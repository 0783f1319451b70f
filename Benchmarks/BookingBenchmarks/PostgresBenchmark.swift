import BookingDomain
import Foundation
import Logging
import PostgresNIO
import PostgresStore

/// PostgresStore against raw PostgresNIO running the same transaction, at 1, 8 and 64 concurrent clients.
struct PostgresBenchmark {
    let count: Int

    func run() async throws {
        guard let url = ProcessInfo.processInfo.environment["BOOKING_POSTGRES_URL"] else {
            print("BOOKING_POSTGRES_URL is not set: run through scripts/with-postgres")
            return
        }
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        var configuration = try PostgresStore.Configuration(url: url)
        configuration.tls = .disable
        configuration.poolSize = 64
        configuration.connectionWaitTimeout = .seconds(60)
        let store = PostgresStore(configuration: configuration, logger: logger)
        let runner = Task { await store.run() }
        defer { runner.cancel() }
        try await store.migrate()
        print(
            "PostgreSQL, \(count) bookings per run (appointment + notification + NOTIFY in one transaction, fsync on)")
        var base: Int64 = 5_000_000_000_000
        for clients in [1, 8, 64] {
            base += 10_000_000_000
            let storeBase = base
            let storeRate = try await concurrently(clients) { index in
                _ = try await store.insert(try appointment(index, base: storeBase))
            }
            base += 10_000_000_000
            let rawBase = base
            let rawRate = try await concurrently(clients) { index in
                try await raw(store.client, try appointment(index, base: rawBase), logger)
            }
            report("PostgresStore, \(clients) concurrent clients", storeRate)
            report("raw PostgresNIO, same SQL, \(clients) concurrent clients", rawRate)
            ratio("PostgresStore / raw driver at \(clients) (target >= 0.80)", storeRate, rawRate)
        }
    }

    private func concurrently(_ clients: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws
        -> Double
    {
        let count = self.count
        return try await rate(count) {
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

    private func raw(_ client: PostgresClient, _ new: NewAppointment, _ logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email,
                    note, status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at)
                VALUES (\(new.resource.rawValue), \(new.slot.start), \(new.slot.end), \(new.occupied.start), \(new.occupied.end),
                    \(new.customerName), \(new.customerEmail), \(new.note), 'booked', \(new.cancelTokenHash), \(new.idempotencyKey),
                    \(new.requestFingerprint), \(new.now), \(new.now))
                RETURNING id
                """, logger: logger)
            var id: Int64 = 0
            for try await value in rows.decode(Int64.self) { id = value }
            try await connection.query(
                """
                INSERT INTO notifications (appointment_id, kind, status, attempts, next_attempt_at, created_at, updated_at)
                VALUES (\(id), 'booked', 'pending', 0, \(new.now), \(new.now), \(new.now))
                """, logger: logger)
            try await connection.query("SELECT pg_notify('booking_outbox', '')", logger: logger)
        }
    }
}
