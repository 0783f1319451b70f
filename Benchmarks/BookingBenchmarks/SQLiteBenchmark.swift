import BookingDomain
import Foundation
import GRDB
import SQLiteStore

/// SQLiteStore on a file (WAL, synchronous=FULL), one process, sequential bookings.
struct SQLiteBenchmark {
    let count: Int

    func run() async throws {
        let directory = NSTemporaryDirectory() + "booking-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        print("SQLite, \(count) sequential bookings per run, file on disk, WAL, synchronous=FULL")

        let empty = try SQLiteStore(location: .file(directory + "/empty.sqlite"))
        let fullPath = directory + "/full.sqlite"
        let full = try SQLiteStore(location: .file(fullPath))
        try await prefill(path: fullPath, rows: 100_000)
        let rawPath = directory + "/raw.sqlite"
        _ = try SQLiteStore(location: .file(rawPath))  // the same schema, trigger and indexes
        let raw = try rawPool(path: rawPath)
        let count = self.count
        let figures = try await medians([
            { round in
                try await rate(count) {
                    for index in 0..<count { _ = try await empty.insert(try appointment(index, base: base(round))) }
                }
            },
            { round in
                try await rate(count) {
                    for index in 0..<count { _ = try await full.insert(try appointment(index, base: base(round))) }
                }
            },
            { round in
                try await rate(count) {
                    for index in 0..<count { try await rawInsert(raw, try appointment(index, base: base(round))) }
                }
            },
        ])
        report("SQLiteStore, empty table", figures[0])
        report("SQLiteStore, 100,000 existing appointments", figures[1])
        report("raw GRDB, same SQL and durability", figures[2])
        ratio("100,000 existing / empty (target >= 0.90)", figures[1], figures[0])
        ratio("SQLiteStore / raw driver (target >= 0.80)", figures[0], figures[2])
        try await readBookedWeek(full, raw: try rawPool(path: fullPath))
    }

    /// The availability read of a booked week (``BookedWeek``) beside raw GRDB running the same statement and
    /// reading its rows in place, as fast as GRDB reads them.
    private func readBookedWeek(_ store: SQLiteStore, raw: DatabasePool) async throws {
        try await BookedWeek.book(into: store)
        let window = try BookedWeek.window
        let reads = 200
        let figures = try await medians([
            { _ in try await rate(reads) { for _ in 0..<reads { try await BookedWeek.read(from: store) } } },
            { _ in try await rate(reads) { for _ in 0..<reads { try await rawOccupants(raw, window) } } },
        ])
        print("SQLite, \(BookedWeek.slotCount) booked 5-minute slots read at once, \(reads) sequential reads per run")
        report("SQLiteStore occupants of a booked week", figures[0], unit: "reads/s")
        report("raw GRDB, same statement, rows read in place", figures[1], unit: "reads/s")
        ratio("SQLiteStore / raw driver, booked week", figures[0], figures[1])
    }

    /// The store's occupants statement (`SQLiteStore.occupantsSQL`) run directly with GRDB, outside a transaction
    /// as the store runs it, each row's columns read by position.
    private func rawOccupants(_ pool: DatabasePool, _ window: TimeSlot) async throws {
        let start = window.start.millisecondsSince1970
        let arguments: StatementArguments = [
            "resource": BookedWeek.resource.rawValue, "start": start, "end": window.end.millisecondsSince1970,
            "lookBack": start - NewHold.longestOccupiedInterval.components.seconds * 1000, "now": start, "moving": nil,
            "using": nil,
        ]
        let read: @Sendable (Database) throws -> Int = { db in
            var count = 0
            let rows = try Row.fetchCursor(db.cachedStatement(sql: SQLiteStore.occupantsSQL), arguments: arguments)
            while let row = try rows.next() {
                let bounds: (Int64, Int64, Int64, Int64) = (row[0], row[1], row[2], row[3])
                let expiry: Int64? = row[5]
                if bounds.0 < bounds.1 && bounds.2 < bounds.3 && expiry == nil { count += 1 }
            }
            return count
        }
        let found = try await pool.unsafeRead(read)
        guard found == BookedWeek.slotCount else {
            throw BenchmarkFailure("raw GRDB read \(found) occupants of \(BookedWeek.slotCount)")
        }
    }

    private func base(_ round: Int) -> Int64 { 4_000_000_000_000 + Int64(round) * 100_000_000_000 }

    /// 100,000 booked appointments before the benchmark's slots, with their notifications.
    private func prefill(path: String, rows: Int) async throws {
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            for index in 0..<rows {
                let start = Int64(1_000_000_000_000) + Int64(index) * 1_800_000
                try db.execute(
                    sql: """
                        INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                            customer_email, status, cancel_token_hash, request_fingerprint, created_at, updated_at)
                        VALUES ('default', ?, ?, ?, ?, 'Prefill', 'prefill@example.com', 'booked', 'x', 'x', 0, 0)
                        """, arguments: [start, start + 1_800_000, start, start + 1_800_000])
                try db.execute(
                    sql:
                        "INSERT INTO notifications (appointment_id, kind, status, next_attempt_at, created_at, updated_at) VALUES (?, 'booked', 'sent', 0, 0, 0)",
                    arguments: [db.lastInsertedRowID])
            }
        }
        try queue.close()
    }

    private func rawPool(path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: configuration)
        // After opening, as SQLiteStore does: the pool sets NORMAL as it switches the file to WAL.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        return pool
    }

    /// The store's booking transaction written directly with GRDB: the same statements and pragmas.
    private func rawInsert(_ pool: DatabasePool, _ new: NewAppointment) async throws {
        try await pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                let now = new.now.millisecondsSince1970
                try db.execute(
                    sql: """
                        INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                            customer_email, note, status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'booked', ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        new.resource.rawValue, new.slot.start.millisecondsSince1970, new.slot.end.millisecondsSince1970,
                        new.occupied.start.millisecondsSince1970, new.occupied.end.millisecondsSince1970,
                        new.customerName,
                        new.customerEmail, new.note, new.cancelTokenHash, new.idempotencyKey, new.requestFingerprint,
                        now, now,
                    ])
                let id = db.lastInsertedRowID
                try db.execute(
                    sql: """
                        INSERT INTO notifications (appointment_id, kind, status, attempts, next_attempt_at, created_at, updated_at)
                        VALUES (?, 'booked', 'pending', 0, ?, ?, ?)
                        """,
                    arguments: [id, now, now, now])
                _ = try Row.fetchOne(db, sql: "SELECT * FROM appointments WHERE id = ?", arguments: [id])
                return .commit
            }
        }
    }
}
