public import BookingDomain
public import Foundation
import PostgresNIO

extension PostgresStore {
    /// Renews, in one statement, the leases `owner` still holds among `ids`.
    ///
    /// A claim running at the same moment either sees the renewed lease or has already taken the row
    /// (its `FOR UPDATE` lock makes this statement wait and then find another owner).
    public func renewLeases(of ids: [Int64], owner: String, now: Date, leaseExpiresAt: Date) async throws(BookingError)
        -> Set<Int64>
    {
        let ids = Array(Set(ids))
        guard !ids.isEmpty else { return [] }
        return try await performTransaction { [logger] connection in
            var renewed: Set<Int64> = []
            let rows = try await connection.query(
                """
                UPDATE notifications
                SET lease_expires_at = \(PostgresInstant(leaseExpiresAt)), updated_at = \(PostgresInstant(now))
                WHERE id = ANY(\(ids)) AND lease_owner = \(owner) AND status = 'pending'
                RETURNING id
                """, logger: logger)
            for try await id in rows.decode(Int64.self) { renewed.insert(id) }
            return renewed
        }
    }

    /// Releases, in one statement, the leases of pending notifications whose owner starts with exactly
    /// `workerID + "/"`: `starts_with` compares the text as it is (`LIKE` would read `%` and `_` as wildcards).
    /// No `NOTIFY`: the dispatcher that asks claims them itself right after.
    public func releaseLeases(ofWorker workerID: String, now: Date) async throws(BookingError) -> Set<Int64> {
        let prefix = workerID + "/"
        return try await performTransaction { [logger] connection in
            var released: Set<Int64> = []
            let rows = try await connection.query(
                """
                UPDATE notifications
                SET lease_owner = NULL, lease_expires_at = NULL, updated_at = \(PostgresInstant(now))
                WHERE status = 'pending' AND starts_with(lease_owner, \(prefix))
                RETURNING id
                """, logger: logger)
            for try await id in rows.decode(Int64.self) { released.insert(id) }
            return released
        }
    }
}
