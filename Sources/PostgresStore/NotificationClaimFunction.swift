/// `booking_claim_notifications_v1`, the PL/pgSQL function behind ``PostgresStore/claimNotifications(_:)`` and
/// ``PostgresStore/claimNotificationsWithAppointments(_:)``: it leases the due notifications, oldest due first, counts
/// an attempt on each, and returns each with its appointment's columns (named with
/// ``PostgresStore/appointmentPrefix``; all `NULL` when the appointment row is gone).
///
/// The due rows are locked in an `ARRAY(...)` (`FOR UPDATE SKIP LOCKED`, so dispatchers never wait for one another)
/// and updated by primary key; each appointment is read by its key in a `LATERAL` subquery the planner keeps apart
/// (`LIMIT 1`). A semi-join and a plain join had generic plans that read both tables whole when they expected a
/// large claim (BENCHMARKS.md, session 19).
///
/// A function, so that its statement is planned once per connection and the plan is kept (PL/pgSQL caches it),
/// where a statement sent each time was planned at each run: about a third of a claim's time in PostgreSQL. The
/// plan is generic (`plan_cache_mode`) and made with sequential and bitmap scans off. What is left is the due index
/// read in order, the rows updated by primary key and each appointment read by its key, whatever the tables held
/// when the plan was made: a plan made while they were nearly empty stays right as they grow.
///
/// Migration 13 creates ``version1``, the text frozen when it shipped; a test compares it with ``definition``. When
/// they differ, add a migration creating `booking_claim_notifications_v2` and call that, and leave ``version1`` as
/// it is.
enum NotificationClaimFunction {
    static let name = "booking_claim_notifications_v1"

    /// The columns it returns: the notification's (``PostgresStore/notificationColumns``), then its appointment's
    /// (``PostgresStore/appointmentColumns``, each named with ``PostgresStore/appointmentPrefix``), with their types.
    static let returnedColumns: String = {
        let notifications = PostgresStore.columnNames(PostgresStore.notificationColumns).map {
            "\($0) \(columnType($0))"
        }
        let appointments = PostgresStore.columnNames(PostgresStore.appointmentColumns).map {
            "\(PostgresStore.appointmentPrefix)\($0) \(columnType($0))"
        }
        return (notifications + appointments).joined(separator: ", ")
    }()

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
            WITH claimed AS (
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
                RETURNING \(PostgresStore.notificationColumns)
            )
            SELECT claimed.*, appointment.*
            FROM claimed LEFT JOIN LATERAL (
                SELECT \(PostgresStore.prefixedAppointmentColumns) FROM appointments AS a
                WHERE a.id = claimed.appointment_id LIMIT 1
            ) AS appointment ON true;
        END
        $function$
        """

    /// The SQL type of a column of `notifications` or `appointments` that the function returns.
    private static func columnType(_ column: String) -> String {
        switch column {
        case "id", "appointment_id": "BIGINT"
        case "attempts", "sequence", "reminder_lead_seconds": "INTEGER"
        case "next_attempt_at", "lease_expires_at", "created_at", "updated_at", "sent_at", "previous_slot_start",
            "previous_slot_end", "slot_start", "slot_end", "occupied_start", "occupied_end", "cancelled_at":
            "TIMESTAMPTZ"
        default: "TEXT"
        }
    }
}
