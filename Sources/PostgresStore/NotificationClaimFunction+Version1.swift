extension NotificationClaimFunction {
    /// The `CREATE FUNCTION` statement of migration 13, as it shipped: never edit it (see ``NotificationClaimFunction``).
    static let version1 = #"""
        CREATE FUNCTION booking_claim_notifications_v1(arg_owner TEXT, arg_lease_expires_at TIMESTAMPTZ, arg_now TIMESTAMPTZ, arg_limit BIGINT)
        RETURNS TABLE (id BIGINT, appointment_id BIGINT, kind TEXT, status TEXT, attempts INTEGER, next_attempt_at TIMESTAMPTZ, lease_owner TEXT, lease_expires_at TIMESTAMPTZ, error TEXT, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, sent_at TIMESTAMPTZ, sequence INTEGER, previous_slot_start TIMESTAMPTZ, previous_slot_end TIMESTAMPTZ, reminder_lead_seconds INTEGER, a_id BIGINT, a_resource TEXT, a_slot_start TIMESTAMPTZ, a_slot_end TIMESTAMPTZ, a_occupied_start TIMESTAMPTZ, a_occupied_end TIMESTAMPTZ, a_customer_name TEXT, a_customer_email TEXT, a_note TEXT, a_status TEXT, a_cancel_token_hash TEXT, a_idempotency_key TEXT, a_request_fingerprint TEXT, a_created_at TIMESTAMPTZ, a_updated_at TIMESTAMPTZ, a_cancelled_at TIMESTAMPTZ, a_sealed_cancel_token TEXT, a_sequence INTEGER)
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
                RETURNING id, appointment_id, kind, status, attempts, next_attempt_at, lease_owner, lease_expires_at, error,
        created_at, updated_at, sent_at, sequence, previous_slot_start, previous_slot_end, reminder_lead_seconds
            )
            SELECT claimed.*, appointment.*
            FROM claimed LEFT JOIN LATERAL (
                SELECT a.id AS a_id, a.resource AS a_resource, a.slot_start AS a_slot_start, a.slot_end AS a_slot_end, a.occupied_start AS a_occupied_start, a.occupied_end AS a_occupied_end, a.customer_name AS a_customer_name, a.customer_email AS a_customer_email, a.note AS a_note, a.status AS a_status, a.cancel_token_hash AS a_cancel_token_hash, a.idempotency_key AS a_idempotency_key, a.request_fingerprint AS a_request_fingerprint, a.created_at AS a_created_at, a.updated_at AS a_updated_at, a.cancelled_at AS a_cancelled_at, a.sealed_cancel_token AS a_sealed_cancel_token, a.sequence AS a_sequence FROM appointments AS a
                WHERE a.id = claimed.appointment_id LIMIT 1
            ) AS appointment ON true;
        END
        $function$
        """#
}
