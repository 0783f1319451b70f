/// `booking_claim_notifications_v1`, the PL/pgSQL function behind ``PostgresStore/claimNotifications(_:)`` and
/// ``PostgresStore/claimNotificationsWithAppointments(_:)``: it leases the due notifications, oldest due first, counts
/// an attempt on each, and returns them (the columns of ``PostgresStore/notificationColumns``, in no particular order).
///
/// The due rows are locked in an `ARRAY(...)` (`FOR UPDATE SKIP LOCKED`, so dispatchers never wait for one another)
/// and updated by primary key. A semi-join had generic plans that read the table whole when they expected a large
/// claim (BENCHMARKS.md, session 19).
///
/// A function, so that its statement is planned once per connection and the plan is kept (PL/pgSQL caches it),
/// where a statement sent each time was planned at each run (0.2 ms of a claim's 0.7 ms in PostgreSQL). The plan is
/// generic (`plan_cache_mode`) and made with sequential and bitmap scans off. What is left is the due index read in
/// order and the rows updated by primary key (the only indexes that answer its conditions), whatever the table held
/// when the plan was made: a plan made while it was empty stays right as it grows. The appointments are read outside
/// it, by a statement planned at each run: in the function, a plan made on an empty table looked each one up by
/// another index that holds the key, reading that index whole (BENCHMARKS.md, session 20).
///
/// Migration 13 creates ``version1``, the text frozen when it shipped; a test compares it with ``definition``. When
/// they differ, add a migration creating `booking_claim_notifications_v2` and call that, and leave ``version1`` as
/// it is.
enum NotificationClaimFunction {
    static let name = "booking_claim_notifications_v1"

    /// The columns it returns, with their types: ``PostgresStore/notificationColumns``.
    static let returnedColumns = PostgresStore.columnNames(PostgresStore.notificationColumns).map {
        "\($0) \(columnType($0))"
    }
    .joined(separator: ", ")

    /// The `CREATE FUNCTION` statement these pieces make now.
    static let definition = """
        CREATE FUNCTION \(name)(arg_owner TEXT, arg_lease_expires_at TIMESTAMPTZ, arg_now TIMESTAMPTZ, arg_limit BIGINT)
        RETURNS TABLE (\(returnedColumns))
        LANGUAGE plpgsql
        SET plan_cache_mode = force_generic_plan
        SET enable_seqscan = off
        SET enable_bitmapscan = off
        AS $function$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY
            UPDATE notifications
            SET lease_owner = arg_owner, lease_expires_at = arg_lease_expires_at, attempts = attempts + 1,
                updated_at = arg_now
            WHERE id = ANY(ARRAY(
                SELECT id FROM notifications
                WHERE status = 'pending' AND next_attempt_at <= arg_now
                    AND (lease_expires_at IS NULL OR lease_expires_at <= arg_now)
                ORDER BY next_attempt_at, id
                LIMIT greatest(arg_limit, 0)
                FOR UPDATE SKIP LOCKED))
            RETURNING \(PostgresStore.notificationColumns);
        END
        $function$
        """

    /// The SQL type of a column of `notifications`.
    private static func columnType(_ column: String) -> String {
        switch column {
        case "id", "appointment_id": "BIGINT"
        case "attempts", "sequence", "reminder_lead_seconds": "INTEGER"
        case "next_attempt_at", "lease_expires_at", "created_at", "updated_at", "sent_at", "previous_slot_start",
            "previous_slot_end":
            "TIMESTAMPTZ"
        case "kind", "status", "lease_owner", "error": "TEXT"
        default: preconditionFailure("the claim function returns a column of no known type: \(column)")
        }
    }
}
