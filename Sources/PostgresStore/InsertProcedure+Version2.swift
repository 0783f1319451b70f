extension InsertProcedure {
    /// The `CREATE PROCEDURE` statement of migration 8, as it shipped: never edit it (see ``InsertProcedure``).
    static let version2 = #"""
        CREATE PROCEDURE booking_insert_v2(arg_locknames TEXT[], arg_lockshared BOOLEAN[], arg_slotlock TEXT, arg_holdtokenhash TEXT, arg_now TIMESTAMPTZ, arg_resource TEXT, arg_slotstart TIMESTAMPTZ, arg_slotend TIMESTAMPTZ, arg_idempotencykey TEXT, arg_capacity BIGINT, arg_periodstarts TIMESTAMPTZ[], arg_periodends TIMESTAMPTZ[], arg_periodlimits BIGINT[], arg_movingid BIGINT, arg_customeremail TEXT, arg_occupiedstart TIMESTAMPTZ, arg_occupiedend TIMESTAMPTZ, arg_customername TEXT, arg_note TEXT, arg_canceltokenhash TEXT, arg_requestfingerprint TEXT, arg_sealedcanceltoken TEXT, arg_reminderleads BIGINT[], arg_reminderdues TIMESTAMPTZ[], INOUT id BIGINT DEFAULT NULL, INOUT resource TEXT DEFAULT NULL, INOUT slot_start TIMESTAMPTZ DEFAULT NULL, INOUT slot_end TIMESTAMPTZ DEFAULT NULL, INOUT occupied_start TIMESTAMPTZ DEFAULT NULL, INOUT occupied_end TIMESTAMPTZ DEFAULT NULL, INOUT customer_name TEXT DEFAULT NULL, INOUT customer_email TEXT DEFAULT NULL, INOUT note TEXT DEFAULT NULL, INOUT status TEXT DEFAULT NULL, INOUT cancel_token_hash TEXT DEFAULT NULL, INOUT idempotency_key TEXT DEFAULT NULL, INOUT request_fingerprint TEXT DEFAULT NULL, INOUT created_at TIMESTAMPTZ DEFAULT NULL, INOUT updated_at TIMESTAMPTZ DEFAULT NULL, INOUT cancelled_at TIMESTAMPTZ DEFAULT NULL, INOUT sealed_cancel_token TEXT DEFAULT NULL, INOUT sequence INTEGER DEFAULT NULL, INOUT created BOOLEAN DEFAULT NULL)
        LANGUAGE plpgsql
        AS $procedure$
        #variable_conflict use_column
        DECLARE
            claim_locked BOOLEAN;
            claim_ok BOOLEAN;
            claim_replay BOOLEAN;
            -- Always try the slot's lock: the procedure queues for it itself, after a check.
            try_slot_lock BOOLEAN := TRUE;
            slot_waits INTEGER := 0;
        BEGIN
            -- The CALL's transaction has done nothing: end it, and run this one at READ COMMITTED.
            COMMIT;
            SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
            -- Day and week locks are exclusive: a booking the limits already refuse never queues for them.
            IF cardinality($11) > 0 THEN
                SELECT claim.ok, claim.replay INTO claim_ok, claim_replay FROM (WITH claim_hold AS (
            SELECT token_hash FROM slot_holds
            WHERE token_hash = $4 AND expires_at > $5 AND resource = $6 AND slot_start = $7 AND slot_end = $8
        ), claim_guard AS (
            SELECT replay, NOT replay AND open AS ok FROM (
                SELECT EXISTS (SELECT 1 FROM appointments WHERE idempotency_key = $9) AS replay,
                    ($4::TEXT IS NULL OR EXISTS (SELECT 1 FROM claim_hold))
                    -- No booked appointment or live hold of a different overlapping slot, not this customer in
                    -- this slot, and a seat left.
                    AND booked.other = 0 AND booked.customer = 0 AND held.other = 0
                    AND booked.seats + held.seats < $10
                    -- Room left in every day and week with a limit.
                    AND NOT EXISTS (SELECT 1 FROM unnest($11::TIMESTAMPTZ[], $12::TIMESTAMPTZ[], $13::BIGINT[])
            WITH ORDINALITY AS period(starts, ends, most, position) WHERE (SELECT count(*) FROM appointments
            WHERE resource = $6 AND status = 'booked' AND id IS DISTINCT FROM $14
                AND slot_start >= period.starts AND slot_start < period.ends) + (SELECT count(*) FROM slot_holds WHERE resource = $6 AND expires_at > $5 AND token_hash IS DISTINCT FROM $4
            AND slot_start >= period.starts AND slot_start < period.ends) >= period.most) AS open
                FROM (
                    SELECT count(*) FILTER (WHERE slot_start = $7 AND slot_end = $8) AS seats,
                        count(*) FILTER (WHERE NOT (slot_start = $7 AND slot_end = $8)) AS other,
                        count(*) FILTER (WHERE slot_start = $7 AND slot_end = $8 AND lower(customer_email) = lower($15))
                            AS customer
                    FROM appointments
                    WHERE resource = $6 AND status = 'booked' AND id IS DISTINCT FROM $14
                        AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($16, $17, '[)')
                ) AS booked, (
                    SELECT count(*) FILTER (WHERE slot_start = $7 AND slot_end = $8) AS seats, count(*) FILTER (WHERE NOT (slot_start = $7 AND slot_end = $8)) AS other
                    FROM slot_holds
                    WHERE resource = $6 AND expires_at > $5 AND token_hash IS DISTINCT FROM $4
                        AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($16, $17, '[)')
                ) AS held
            ) AS claim
        )
        SELECT ok, replay FROM claim_guard) AS claim;
                IF NOT claim_ok AND NOT claim_replay THEN
                    RETURN;
                END IF;
            END IF;
            LOOP
                SELECT CASE WHEN (SELECT count(*) FROM (
            SELECT CASE WHEN lock.shared THEN pg_advisory_xact_lock_shared(hashtextextended(lock.name, 0))
                ELSE pg_advisory_xact_lock(hashtextextended(lock.name, 0)) END
            FROM unnest($1::TEXT[], $2::BOOLEAN[]) WITH ORDINALITY AS lock(name, shared, position)
            ORDER BY lock.position
        ) AS taken) IS NULL THEN NULL
            WHEN $3::TEXT IS NULL THEN TRUE
            WHEN try_slot_lock THEN pg_try_advisory_xact_lock(hashtextextended($3, 0))
            ELSE (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(hashtextextended($3, 0))) AS slot) = 1
        END INTO claim_locked;
                EXIT WHEN claim_locked;
                -- Another taker holds the slot's lock: a refusal or a replay needs no wait.
                SELECT claim.ok, claim.replay INTO claim_ok, claim_replay FROM (WITH claim_hold AS (
            SELECT token_hash FROM slot_holds
            WHERE token_hash = $4 AND expires_at > $5 AND resource = $6 AND slot_start = $7 AND slot_end = $8
        ), claim_guard AS (
            SELECT replay, NOT replay AND open AS ok FROM (
                SELECT EXISTS (SELECT 1 FROM appointments WHERE idempotency_key = $9) AS replay,
                    ($4::TEXT IS NULL OR EXISTS (SELECT 1 FROM claim_hold))
                    -- No booked appointment or live hold of a different overlapping slot, not this customer in
                    -- this slot, and a seat left.
                    AND booked.other = 0 AND booked.customer = 0 AND held.other = 0
                    AND booked.seats + held.seats < $10
                    -- Room left in every day and week with a limit.
                    AND NOT EXISTS (SELECT 1 FROM unnest($11::TIMESTAMPTZ[], $12::TIMESTAMPTZ[], $13::BIGINT[])
            WITH ORDINALITY AS period(starts, ends, most, position) WHERE (SELECT count(*) FROM appointments
            WHERE resource = $6 AND status = 'booked' AND id IS DISTINCT FROM $14
                AND slot_start >= period.starts AND slot_start < period.ends) + (SELECT count(*) FROM slot_holds WHERE resource = $6 AND expires_at > $5 AND token_hash IS DISTINCT FROM $4
            AND slot_start >= period.starts AND slot_start < period.ends) >= period.most) AS open
                FROM (
                    SELECT count(*) FILTER (WHERE slot_start = $7 AND slot_end = $8) AS seats,
                        count(*) FILTER (WHERE NOT (slot_start = $7 AND slot_end = $8)) AS other,
                        count(*) FILTER (WHERE slot_start = $7 AND slot_end = $8 AND lower(customer_email) = lower($15))
                            AS customer
                    FROM appointments
                    WHERE resource = $6 AND status = 'booked' AND id IS DISTINCT FROM $14
                        AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($16, $17, '[)')
                ) AS booked, (
                    SELECT count(*) FILTER (WHERE slot_start = $7 AND slot_end = $8) AS seats, count(*) FILTER (WHERE NOT (slot_start = $7 AND slot_end = $8)) AS other
                    FROM slot_holds
                    WHERE resource = $6 AND expires_at > $5 AND token_hash IS DISTINCT FROM $4
                        AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($16, $17, '[)')
                ) AS held
            ) AS claim
        )
        SELECT ok, replay FROM claim_guard) AS claim;
                EXIT WHEN claim_replay;
                IF NOT claim_ok THEN
                    RETURN;
                END IF;
                IF slot_waits = 4 THEN
                    PERFORM pg_advisory_xact_lock(hashtextextended($3, 0));
                    EXIT;
                END IF;
                -- Wait until that taker is done, holding nothing afterwards, and try again.
                PERFORM pg_advisory_lock_shared(hashtextextended($3, 0)),
                    pg_advisory_unlock_shared(hashtextextended($3, 0));
                slot_waits := slot_waits + 1;
            END LOOP;
            WITH claim_hold AS (
            SELECT token_hash FROM slot_holds
            WHERE token_hash = $4 AND expires_at > $5 AND resource = $6 AND slot_start = $7 AND slot_end = $8
        ), claim_guard AS (
            SELECT replay, NOT replay AND open AS ok FROM (
                SELECT EXISTS (SELECT 1 FROM appointments WHERE idempotency_key = $9) AS replay,
                    ($4::TEXT IS NULL OR EXISTS (SELECT 1 FROM claim_hold))
                    -- No booked appointment or live hold of a different overlapping slot, not this customer in
                    -- this slot, and a seat left.
                    AND booked.other = 0 AND booked.customer = 0 AND held.other = 0
                    AND booked.seats + held.seats < $10
                    -- Room left in every day and week with a limit.
                    AND NOT EXISTS (SELECT 1 FROM unnest($11::TIMESTAMPTZ[], $12::TIMESTAMPTZ[], $13::BIGINT[])
            WITH ORDINALITY AS period(starts, ends, most, position) WHERE (SELECT count(*) FROM appointments
            WHERE resource = $6 AND status = 'booked' AND id IS DISTINCT FROM $14
                AND slot_start >= period.starts AND slot_start < period.ends) + (SELECT count(*) FROM slot_holds WHERE resource = $6 AND expires_at > $5 AND token_hash IS DISTINCT FROM $4
            AND slot_start >= period.starts AND slot_start < period.ends) >= period.most) AS open
                FROM (
                    SELECT count(*) FILTER (WHERE slot_start = $7 AND slot_end = $8) AS seats,
                        count(*) FILTER (WHERE NOT (slot_start = $7 AND slot_end = $8)) AS other,
                        count(*) FILTER (WHERE slot_start = $7 AND slot_end = $8 AND lower(customer_email) = lower($15))
                            AS customer
                    FROM appointments
                    WHERE resource = $6 AND status = 'booked' AND id IS DISTINCT FROM $14
                        AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($16, $17, '[)')
                ) AS booked, (
                    SELECT count(*) FILTER (WHERE slot_start = $7 AND slot_end = $8) AS seats, count(*) FILTER (WHERE NOT (slot_start = $7 AND slot_end = $8)) AS other
                    FROM slot_holds
                    WHERE resource = $6 AND expires_at > $5 AND token_hash IS DISTINCT FROM $4
                        AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($16, $17, '[)')
                ) AS held
            ) AS claim
        ), lapsed AS (
            DELETE FROM slot_holds WHERE resource = $6 AND expires_at <= $5 AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($16, $17, '[)')
        ), used AS (
            DELETE FROM slot_holds
            WHERE token_hash IN (SELECT token_hash FROM claim_hold) AND (SELECT ok FROM claim_guard)
            RETURNING token_hash
        ), inserted AS (
            INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                customer_email, note, status, cancel_token_hash, idempotency_key, request_fingerprint,
                created_at, updated_at, sealed_cancel_token)
            SELECT $6, $7, $8, $16, $17, $18,
                $15, $19, 'booked', $20, $9, $21,
                $5, $5, $22
            WHERE (SELECT ok FROM claim_guard)
                -- The hold must still be there to be used: a release that committed first wins.
                AND ($4::TEXT IS NULL OR EXISTS (SELECT 1 FROM used))
            RETURNING id, resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note,
        status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, cancelled_at,
        sealed_cancel_token, sequence
        ), notifications AS (
            -- One INSERT, so the booked notification takes the first id and the reminders follow in order.
            INSERT INTO notifications (appointment_id, kind, reminder_lead_seconds, status, attempts,
                next_attempt_at, created_at, updated_at)
            SELECT inserted.id, event.kind, event.lead_seconds, 'pending', 0, event.due_at, $5, $5
            FROM inserted, (
                SELECT 0::BIGINT AS position, 'booked' AS kind, 0::BIGINT AS lead_seconds, $5 AS due_at
                UNION ALL
                SELECT reminder.position, 'reminder', reminder.lead_seconds, reminder.due_at
                FROM unnest($23::BIGINT[], $24::TIMESTAMPTZ[])
                    WITH ORDINALITY AS reminder(lead_seconds, due_at, position)
            ) AS event
            ORDER BY event.position
        )
        SELECT id, resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note,
        status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, cancelled_at,
        sealed_cancel_token, sequence, TRUE AS created FROM inserted
        UNION ALL
        -- A replay: the appointment of the key (committed before the key's lock was granted).
        SELECT id, resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note,
        status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, cancelled_at,
        sealed_cancel_token, sequence, FALSE FROM appointments
        WHERE idempotency_key = $9 AND NOT EXISTS (SELECT 1 FROM inserted)
            INTO id, resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note, status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, cancelled_at, sealed_cancel_token, sequence, created;
            -- Its failure is this call's error, before any row is sent.
            COMMIT;
        END
        $procedure$
        """#
}
