import BookingDomain
import Foundation
import PostgresStore

/// PostgresStore's availability read of a booked week (``BookedWeek``), one client: the store-level figure
/// `scripts/bench` sets beside pgbench running the same statement (`Benchmarks/http/occupants.pgbench`).
struct PostgresReadBenchmark {
    let count: Int

    func run() async throws {
        // One client: the warm-up below prepares the statement on the one connection.
        guard let store = try benchmarkPostgresStore(poolSize: 1) else { return }
        let runner = Task { await store.run() }
        defer { runner.cancel() }
        try await store.migrate()
        try await BookedWeek.book(into: store)
        let window = try BookedWeek.window
        // A warm-up prepares the statement, so the figure is the steady rate.
        try await BookedWeek.read(from: store)
        let count = self.count
        let reads = try await rate(count) { for _ in 0..<count { try await BookedWeek.read(from: store) } }
        print(
            "PostgreSQL, \(BookedWeek.slotCount) booked 5-minute slots read at once, \(count) sequential reads; "
                + "window \(window.start.millisecondsSince1970 / 1000) \(window.end.millisecondsSince1970 / 1000)")
        report("PostgresStore occupants of a booked week, 1 client", reads, unit: "reads/s")
    }
}
