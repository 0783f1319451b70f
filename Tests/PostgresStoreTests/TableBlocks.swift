import PostgresNIO
import TestSupport

@testable import PostgresStore

/// Counts the blocks of some tables and their indexes that a piece of work on `store` reads, from the statistics
/// `admin` (a store on the same database, doing nothing else) reads: each count starts once both backends reported
/// what they read before, so a setup's reads never land in it.
struct TableBlocks {
    let store: PostgresStore
    let admin: PostgresStore
    /// The tables counted.
    var tables: [String] = ["appointments"]

    /// The blocks of ``tables`` and their indexes that `body` read.
    func read(by body: () async throws -> Void) async throws -> Int64 {
        let before = try await total()
        try await body()
        return try await total() - before
    }

    /// The blocks read so far, once each backend has reported its own. A backend flushes a forced flush when it goes
    /// idle, before it reads its next statement, which may be after the statement asking for it has answered; so a
    /// second statement follows, and once that has answered the flush is done.
    private func total() async throws -> Int64 {
        let logger = PostgresTestDatabase.logger
        for client in [store.client, admin.client] {
            try await client.query("SELECT pg_stat_force_next_flush()", logger: logger)
            try await client.query("SELECT 1", logger: logger)
        }
        return try await admin.client.query(
            """
            SELECT coalesce(sum(heap_blks_read + heap_blks_hit + coalesce(idx_blks_read, 0) + coalesce(idx_blks_hit, 0)), 0)::BIGINT
            FROM pg_statio_user_tables WHERE relname = ANY(\(tables))
            """, logger: logger
        ).collect().first?.decode(Int64.self) ?? 0
    }
}
