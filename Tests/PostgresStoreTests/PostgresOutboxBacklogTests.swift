import BookingDomain
import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStore

/// The dispatcher's statements (`claimNotificationsWithAppointments(_:)`, `finish(outcomes:owner:)`) with a backlog
/// of pending notifications, as after a receiver's outage: each reads the rows it claims or records, never a table
/// through.
@Suite("PostgreSQL store: the outbox with a backlog")
struct PostgresOutboxBacklogTests {
    let now = Date(millisecondsSince1970: 1_803_801_600_000)  // 2027-02-28T08:00Z

    /// 20,000 booked appointments in 5-minute slots from 2027-03-01T00:00Z, each with a `booked` notification
    /// pending since an hour before ``now``; with `latestFirst`, the first booked (and first due) holds the latest
    /// slot.
    static func backlog(latestFirst: Bool = false) -> String {
        let (first, step) =
            latestFirst
            ? ("timestamptz '2027-03-01T00:00Z' + interval '5 minutes' * 19999", "-5")
            : ("timestamptz '2027-03-01T00:00Z'", "5")
        return """
            WITH booked AS (
                INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                    customer_email, status, cancel_token_hash, request_fingerprint, created_at, updated_at)
                SELECT 'default', start, start + interval '5 minutes', start, start + interval '5 minutes', 'Guest',
                    'guest@example.com', 'booked', 'h', 'f', timestamptz '2027-02-28T07:00Z', timestamptz '2027-02-28T07:00Z'
                FROM generate_series(\(first), \(first) + interval '\(step) minutes' * 19999, interval '\(step) minutes')
                    AS start
                RETURNING id
            )
            INSERT INTO notifications (appointment_id, kind, status, attempts, next_attempt_at, created_at, updated_at)
            SELECT id, 'booked', 'pending', 0, timestamptz '2027-02-28T07:00Z', timestamptz '2027-02-28T07:00Z',
                timestamptz '2027-02-28T07:00Z'
            FROM booked
            """
    }

    @Test(
        "with 20,000 notifications pending, a claim of 20 and its outcomes read only their rows, and each claimed notification comes with its appointment"
    )
    func backlogIsNeverReadWhole() async throws {
        try await withStoreAndAdmin(poolSize: 1) { store, admin in
            try await Self.withOldestSnapshotHeld { try await claimAmongBacklog(store: store, admin: admin) }
        }
    }

    @Test(
        "a claim after the tables grew from empty (analyzed then) reads only its rows, on the connection that claimed before"
    )
    func claimAfterTablesGrewFromEmpty() async throws {
        try await withStoreAndAdmin(poolSize: 1) { store, admin in
            try await Self.withOldestSnapshotHeld { try await claimAfterGrowth(store: store, admin: admin) }
        }
    }

    /// Runs `body` while a transaction on the server's default database holds a snapshot and a transaction id, as a
    /// deployment's other clients may. Row versions the statements leave dead are then read rather than skipped, and
    /// the blocks counted are the same whatever the other tests run meanwhile (without it, the counts of
    /// `claimAmongBacklog` were about 260, 260 and 190 alone and the claim this replaced read 805 and 426; beside
    /// other tests, as with it).
    private static func withOldestSnapshotHeld(_ body: () async throws -> Void) async throws {
        let logger = PostgresTestDatabase.logger
        try await PostgresTestDatabase.admin.get().withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ", logger: logger)
            do {
                try await connection.query("SELECT txid_current()", logger: logger)
                try await body()
            } catch {
                try await connection.query("ROLLBACK", logger: logger)
                throw error
            }
            try await connection.query("ROLLBACK", logger: logger)
        }
    }

    /// A claim on empty tables just analyzed, as on a new deployment, on the store's one connection (the other holds
    /// its `LISTEN`). Then ``backlog(latestFirst:)``, the first due holding the latest slots, without `ANALYZE`, and a
    /// claim of 20 on the same connection: what it read. A plan that connection kept from the first claim (as a
    /// prepared statement or a PL/pgSQL function keeps one) would read the tables through here (BENCHMARKS.md,
    /// session 20): the store plans the claim at each run.
    private func claimAfterGrowth(store: PostgresStore, admin: PostgresStore) async throws {
        let logger = PostgresTestDatabase.logger
        try await Self.turnAutovacuumOff(admin: admin)
        try await admin.client.query("ANALYZE appointments, notifications", logger: logger)
        let claim = NotificationClaim(
            owner: "worker/1", limit: 20, now: now, leaseExpiresAt: now.addingTimeInterval(60))
        let backend = try await Self.backendID(of: store)
        #expect(try await store.claimNotificationsWithAppointments(claim).isEmpty)
        try await admin.client.query(PostgresQuery(unsafeSQL: Self.backlog(latestFirst: true)), logger: logger)
        let blocks = TableBlocks(store: store, admin: admin, tables: ["appointments", "notifications"])
        var claimed: [ClaimedNotification] = []
        let claimRead = try await blocks.read { claimed = try await store.claimNotificationsWithAppointments(claim) }
        #expect(claimed.map(\.notification.id) == Array(1...20))
        #expect(claimed.allSatisfy { $0.appointment?.appointment.id == $0.notification.appointmentID })
        // The first due holds the latest slot, the last entry of the slot index.
        let latestSlot = Date(millisecondsSince1970: 1_803_859_200_000).addingTimeInterval(19_999 * 300)
        #expect(claimed.first?.appointment?.appointment.slot.start == latestSlot)
        // 372 blocks here; the claim in a PL/pgSQL function whose kept plan was made on the empty tables read 818 to
        // 904 (a sequential scan of `notifications` and a sort of all of them).
        #expect(claimRead < 600, "the claim read \(claimRead) blocks")
        // The same connection ran both claims.
        #expect(try await Self.backendID(of: store) == backend)
    }

    /// Turns autovacuum off on both tables: nothing reads them (or analyzes them, which would replan) while the
    /// reads are counted.
    private static func turnAutovacuumOff(admin: PostgresStore) async throws {
        for table in ["appointments", "notifications"] {
            try await admin.client.query(
                PostgresQuery(unsafeSQL: "ALTER TABLE \(table) SET (autovacuum_enabled = off)"),
                logger: PostgresTestDatabase.logger)
        }
    }

    /// The server process of the connection `store`'s next operation gets (its pool has one for operations).
    private static func backendID(of store: PostgresStore) async throws -> Int32? {
        try await store.client.query("SELECT pg_backend_pid()", logger: PostgresTestDatabase.logger).collect().first?
            .decode(Int32.self)
    }

    /// Two claims of 20 and their outcomes, then a plain claim, with ``backlog(latestFirst:)`` pending: what each read
    /// and wrote.
    private func claimAmongBacklog(store: PostgresStore, admin: PostgresStore) async throws {
        let logger = PostgresTestDatabase.logger
        try await Self.turnAutovacuumOff(admin: admin)
        try await admin.client.query(PostgresQuery(unsafeSQL: Self.backlog()), logger: logger)
        try await admin.client.query("VACUUM ANALYZE appointments, notifications", logger: logger)
        func claim(_ owner: String) -> NotificationClaim {
            NotificationClaim(owner: owner, limit: 20, now: now, leaseExpiresAt: now.addingTimeInterval(60))
        }
        // A first claim and its outcomes, so the counted claims meet the due index's entries of rows already
        // sent, as a draining dispatcher does.
        let first = try await store.claimNotificationsWithAppointments(claim("worker/1"))
        _ = try await store.finish(
            outcomes: Dictionary(uniqueKeysWithValues: first.map { ($0.notification.id, .sent(at: now)) }),
            owner: "worker/1")
        let blocks = TableBlocks(store: store, admin: admin, tables: ["appointments", "notifications"])
        var claimed: [ClaimedNotification] = []
        let claimRead = try await blocks.read {
            claimed = try await store.claimNotificationsWithAppointments(claim("worker/2"))
        }
        #expect(claimed.count == 20)
        #expect(claimed.allSatisfy { $0.appointment?.appointment.id == $0.notification.appointmentID })
        #expect(claimed.allSatisfy { $0.notification.leaseOwner == "worker/2" && $0.notification.attempts == 1 })
        // The oldest due first: the ids after the first claim's, in order.
        #expect(claimed.map(\.notification.id) == Array(21...40))
        var recorded: Set<Int64> = []
        let outcomesRead = try await blocks.read {
            recorded = try await store.finish(
                outcomes: Dictionary(uniqueKeysWithValues: claimed.map { ($0.notification.id, .sent(at: now)) }),
                owner: "worker/2")
        }
        #expect(recorded == Set(21...40))
        // The 20 rows, their new versions and index entries, and the due index's entries of the rows sent before
        // (here the claim 413 blocks, the outcomes 308). Reading a table through adds hundreds: the claim this
        // replaced read 952, and 630 without the appointments.
        #expect(claimRead < 600, "the claim read \(claimRead) blocks")
        #expect(outcomesRead < 400, "the outcomes read \(outcomesRead) blocks")
        let sent = try await store.notifications(appointmentID: nil).filter { $0.status == .sent }
        #expect(sent.map(\.id).sorted() == Array(1...40))
        // The claim without the appointments locks and updates its rows the same way (395 blocks here).
        var plain: [BookingNotification] = []
        let plainRead = try await blocks.read { plain = try await store.claimNotifications(claim("worker/3")) }
        #expect(plain.map(\.id) == Array(41...60))
        #expect(plainRead < 500, "the claim without appointments read \(plainRead) blocks")
    }
}
