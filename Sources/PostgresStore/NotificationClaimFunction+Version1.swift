extension NotificationClaimFunction {
    /// The `CREATE FUNCTION` statement of migration 13, as it shipped: never edit it (see ``NotificationClaimFunction``).
    static let version1 = #"""
        CREATE FUNCTION booking_claim_notifications_v1(arg_owner TEXT, arg_lease_expires_at TIMESTAMPTZ, arg_now TIMESTAMPTZ, arg_limit BIGINT)
        RETURNS TABLE (id BIGINT, appointment_id BIGINT, kind TEXT, status TEXT, attempts INTEGER, next_attempt_at TIMESTAMPTZ, lease_owner TEXT, lease_expires_at TIMESTAMPTZ, error TEXT, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, sent_at TIMESTAMPTZ, sequence INTEGER, previous_slot_start TIMESTAMPTZ, previous_slot_end TIMESTAMPTZ, reminder_lead_seconds INTEGER)
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
            RETURNING id, appointment_id, kind, status, attempts, next_attempt_at, lease_owner, lease_expires_at, error,
        created_at, updated_at, sent_at, sequence, previous_slot_start, previous_slot_end, reminder_lead_seconds;
        END
        $function$
        """#
}
