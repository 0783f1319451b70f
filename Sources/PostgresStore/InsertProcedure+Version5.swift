extension InsertProcedure {
    /// The `CREATE PROCEDURE` statement of migration 12, as it shipped: never edit it (see ``InsertProcedure``).
    static let version5 = #"""
        CREATE PROCEDURE booking_insert_v5(arg_firstseat BOOLEAN, arg_locknames TEXT[], arg_lockshared BOOLEAN[], arg_slotlock TEXT, arg_resource TEXT, arg_slotstart TIMESTAMPTZ, arg_slotend TIMESTAMPTZ, arg_occupiedstart TIMESTAMPTZ, arg_occupiedend TIMESTAMPTZ, arg_customername TEXT, arg_customeremail TEXT, arg_note TEXT, arg_canceltokenhash TEXT, arg_idempotencykey TEXT, arg_requestfingerprint TEXT, arg_now TIMESTAMPTZ, arg_sealedcanceltoken TEXT, arg_movingid BIGINT, arg_reminderleads BIGINT[], arg_reminderdues TIMESTAMPTZ[], arg_holdtokenhash TEXT, arg_capacity BIGINT, arg_periodstarts TIMESTAMPTZ[], arg_periodends TIMESTAMPTZ[], arg_periodlimits BIGINT[], INOUT id BIGINT DEFAULT NULL, INOUT resource TEXT DEFAULT NULL, INOUT slot_start TIMESTAMPTZ DEFAULT NULL, INOUT slot_end TIMESTAMPTZ DEFAULT NULL, INOUT occupied_start TIMESTAMPTZ DEFAULT NULL, INOUT occupied_end TIMESTAMPTZ DEFAULT NULL, INOUT customer_name TEXT DEFAULT NULL, INOUT customer_email TEXT DEFAULT NULL, INOUT note TEXT DEFAULT NULL, INOUT status TEXT DEFAULT NULL, INOUT cancel_token_hash TEXT DEFAULT NULL, INOUT idempotency_key TEXT DEFAULT NULL, INOUT request_fingerprint TEXT DEFAULT NULL, INOUT created_at TIMESTAMPTZ DEFAULT NULL, INOUT updated_at TIMESTAMPTZ DEFAULT NULL, INOUT cancelled_at TIMESTAMPTZ DEFAULT NULL, INOUT sealed_cancel_token TEXT DEFAULT NULL, INOUT sequence INTEGER DEFAULT NULL, INOUT created BOOLEAN DEFAULT NULL)
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
            -- Run at READ COMMITTED: in a session of another default, end the CALL's transaction (which has
            -- done nothing) and start one at READ COMMITTED.
            IF current_setting('transaction_isolation') <> 'read committed' THEN
                COMMIT;
                SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
            END IF;
            -- The first seat of an empty slot, under the key's and the resource's locks and the slot's, shared (no
            -- wait: a taker through the claim holds it alone). Other first tries of the slot meet this one at the
            -- seat index, overlapping slots at the exclusion constraint: the second writes nothing, and claims.
            IF $1 AND $21 IS NULL
                AND cardinality($23) = 0
            THEN
                PERFORM (SELECT count(*) FROM (
            SELECT CASE WHEN lock.shared THEN pg_advisory_xact_lock_shared(hashtextextended(lock.name, 0))
                ELSE pg_advisory_xact_lock(hashtextextended(lock.name, 0)) END
            FROM unnest($2::TEXT[], $3::BOOLEAN[]) WITH ORDINALITY AS lock(name, shared, position)
            ORDER BY lock.position
        ) AS taken);
                IF pg_try_advisory_xact_lock_shared(hashtextextended($4, 0)) THEN
                    WITH inserted AS (
            INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note, status,
                cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, sealed_cancel_token, seat)
            SELECT $5, $6, $7, $8, $9, $10,
                $11, $12, 'booked', $13, $14, $15,
                $16, $16, $17, 0
            WHERE NOT EXISTS (SELECT 1 FROM appointments WHERE resource = $5 AND slot_start = $6 AND status = 'booked'
            AND id IS DISTINCT FROM $18)
                AND NOT EXISTS (
                    SELECT 1 FROM slot_holds
                    WHERE resource = $5 AND expires_at > $16 AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($8, $9, '[)'))
            ON CONFLICT DO NOTHING
            RETURNING id, resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note,
        status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, cancelled_at,
        sealed_cancel_token, sequence
        ), notifications AS (
            INSERT INTO notifications (appointment_id, kind, reminder_lead_seconds, status, attempts,
                next_attempt_at, created_at, updated_at)
            SELECT inserted.id, event.kind, event.lead_seconds, 'pending', 0, event.due_at, $16, $16
            FROM inserted, (
                SELECT 0::BIGINT AS position, 'booked' AS kind, 0::BIGINT AS lead_seconds, $16 AS due_at
                UNION ALL
                SELECT reminder.position, 'reminder', reminder.lead_seconds, reminder.due_at
                FROM unnest($19::BIGINT[], $20::TIMESTAMPTZ[])
                    WITH ORDINALITY AS reminder(lead_seconds, due_at, position)
            ) AS event
            ORDER BY event.position
        )
        SELECT id, resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note,
        status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, cancelled_at,
        sealed_cancel_token, sequence, TRUE AS created FROM inserted
                    INTO id, resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note, status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, cancelled_at, sealed_cancel_token, sequence, created;
                    IF created THEN
                        COMMIT;
                        RETURN;
                    END IF;
                END IF;
                -- Nothing was written: end this transaction and its locks (the claim takes the slot's alone,
                -- and two first tries upgrading their shared locks would deadlock), and start the claim's.
                COMMIT;
                SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
            END IF;
            -- Day and week locks are exclusive: a booking the limits already refuse never queues for them.
            IF cardinality($23) > 0 THEN
                SELECT claim.ok, claim.replay INTO claim_ok, claim_replay FROM (WITH claim_hold AS (
            SELECT token_hash FROM slot_holds
            WHERE token_hash = $21 AND expires_at > $16 AND resource = $5 AND slot_start = $6 AND slot_end = $7
        ), claim_guard AS (
            SELECT replay, NOT replay AND open AS ok FROM (
                SELECT EXISTS (SELECT 1 FROM appointments WHERE idempotency_key = $14) AS replay,
                    ($21::TEXT IS NULL OR EXISTS (SELECT 1 FROM claim_hold))
                    -- No booked appointment or live hold of a different overlapping slot, not this customer in
                    -- this slot, and a seat left.
                    AND booked.other = 0 AND booked.customer = 0 AND held.other = 0
                    AND booked.seats + held.seats < $22
                    -- Room left in every day and week with a limit.
                    AND NOT EXISTS (SELECT 1 FROM unnest($23::TIMESTAMPTZ[], $24::TIMESTAMPTZ[], $25::BIGINT[])
            WITH ORDINALITY AS period(starts, ends, most, position) WHERE (SELECT count(*) FROM appointments
            WHERE hashtextextended(resource, 0) = hashtextextended($5, 0) AND resource = $5 AND status = 'booked' AND id IS DISTINCT FROM $18
                AND slot_start >= period.starts AND slot_start < period.ends) + (SELECT count(*) FROM slot_holds WHERE resource = $5 AND expires_at > $16 AND token_hash IS DISTINCT FROM $21
            AND slot_start >= period.starts AND slot_start < period.ends) >= period.most) AS open
                FROM (
                    SELECT count(*) FILTER (WHERE slot_start = $6 AND slot_end = $7) AS seats,
                        count(*) FILTER (WHERE NOT (slot_start = $6 AND slot_end = $7)) AS other,
                        count(*) FILTER (WHERE slot_start = $6 AND slot_end = $7 AND lower(customer_email) = lower($11))
                            AS customer
                    FROM appointments
                    WHERE hashtextextended(resource, 0) = hashtextextended($5, 0) AND resource = $5 AND status = 'booked' AND id IS DISTINCT FROM $18
                        AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($8, $9, '[)')
                ) AS booked, (
                    SELECT count(*) FILTER (WHERE slot_start = $6 AND slot_end = $7) AS seats, count(*) FILTER (WHERE NOT (slot_start = $6 AND slot_end = $7)) AS other
                    FROM slot_holds
                    WHERE resource = $5 AND expires_at > $16 AND token_hash IS DISTINCT FROM $21
                        AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($8, $9, '[)')
                ) AS held
            ) AS claim
        )
        SELECT ok, replay FROM claim_guard) AS claim;
                IF NOT claim_ok AND NOT claim_replay THEN
                    -- A refusal ends the transaction too, so the call fails inside a caller's block whatever it
                    -- answers (SQLSTATE 2D000).
                    COMMIT;
                    RETURN;
                END IF;
            END IF;
            LOOP
                SELECT CASE WHEN (SELECT count(*) FROM (
            SELECT CASE WHEN lock.shared THEN pg_advisory_xact_lock_shared(hashtextextended(lock.name, 0))
                ELSE pg_advisory_xact_lock(hashtextextended(lock.name, 0)) END
            FROM unnest($2::TEXT[], $3::BOOLEAN[]) WITH ORDINALITY AS lock(name, shared, position)
            ORDER BY lock.position
        ) AS taken) IS NULL THEN NULL
            WHEN $4::TEXT IS NULL THEN TRUE
            WHEN try_slot_lock THEN pg_try_advisory_xact_lock(hashtextextended($4, 0))
            ELSE (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(hashtextextended($4, 0))) AS slot) = 1
        END INTO claim_locked;
                EXIT WHEN claim_locked;
                -- Another taker holds the slot's lock: a refusal or a replay needs no wait.
                SELECT claim.ok, claim.replay INTO claim_ok, claim_replay FROM (WITH claim_hold AS (
            SELECT token_hash FROM slot_holds
            WHERE token_hash = $21 AND expires_at > $16 AND resource = $5 AND slot_start = $6 AND slot_end = $7
        ), claim_guard AS (
            SELECT replay, NOT replay AND open AS ok FROM (
                SELECT EXISTS (SELECT 1 FROM appointments WHERE idempotency_key = $14) AS replay,
                    ($21::TEXT IS NULL OR EXISTS (SELECT 1 FROM claim_hold))
                    -- No booked appointment or live hold of a different overlapping slot, not this customer in
                    -- this slot, and a seat left.
                    AND booked.other = 0 AND booked.customer = 0 AND held.other = 0
                    AND booked.seats + held.seats < $22
                    -- Room left in every day and week with a limit.
                    AND NOT EXISTS (SELECT 1 FROM unnest($23::TIMESTAMPTZ[], $24::TIMESTAMPTZ[], $25::BIGINT[])
            WITH ORDINALITY AS period(starts, ends, most, position) WHERE (SELECT count(*) FROM appointments
            WHERE hashtextextended(resource, 0) = hashtextextended($5, 0) AND resource = $5 AND status = 'booked' AND id IS DISTINCT FROM $18
                AND slot_start >= period.starts AND slot_start < period.ends) + (SELECT count(*) FROM slot_holds WHERE resource = $5 AND expires_at > $16 AND token_hash IS DISTINCT FROM $21
            AND slot_start >= period.starts AND slot_start < period.ends) >= period.most) AS open
                FROM (
                    SELECT count(*) FILTER (WHERE slot_start = $6 AND slot_end = $7) AS seats,
                        count(*) FILTER (WHERE NOT (slot_start = $6 AND slot_end = $7)) AS other,
                        count(*) FILTER (WHERE slot_start = $6 AND slot_end = $7 AND lower(customer_email) = lower($11))
                            AS customer
                    FROM appointments
                    WHERE hashtextextended(resource, 0) = hashtextextended($5, 0) AND resource = $5 AND status = 'booked' AND id IS DISTINCT FROM $18
                        AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($8, $9, '[)')
                ) AS booked, (
                    SELECT count(*) FILTER (WHERE slot_start = $6 AND slot_end = $7) AS seats, count(*) FILTER (WHERE NOT (slot_start = $6 AND slot_end = $7)) AS other
                    FROM slot_holds
                    WHERE resource = $5 AND expires_at > $16 AND token_hash IS DISTINCT FROM $21
                        AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($8, $9, '[)')
                ) AS held
            ) AS claim
        )
        SELECT ok, replay FROM claim_guard) AS claim;
                EXIT WHEN claim_replay;
                IF NOT claim_ok THEN
                    COMMIT;
                    RETURN;
                END IF;
                IF slot_waits = 4 THEN
                    PERFORM pg_advisory_xact_lock(hashtextextended($4, 0));
                    EXIT;
                END IF;
                -- Wait until that taker is done, holding nothing afterwards, and try again.
                PERFORM pg_advisory_lock_shared(hashtextextended($4, 0)),
                    pg_advisory_unlock_shared(hashtextextended($4, 0));
                slot_waits := slot_waits + 1;
            END LOOP;
            WITH claim_hold AS (
            SELECT token_hash FROM slot_holds
            WHERE token_hash = $21 AND expires_at > $16 AND resource = $5 AND slot_start = $6 AND slot_end = $7
        ), claim_guard AS (
            SELECT replay, NOT replay AND open AS ok FROM (
                SELECT EXISTS (SELECT 1 FROM appointments WHERE idempotency_key = $14) AS replay,
                    ($21::TEXT IS NULL OR EXISTS (SELECT 1 FROM claim_hold))
                    -- No booked appointment or live hold of a different overlapping slot, not this customer in
                    -- this slot, and a seat left.
                    AND booked.other = 0 AND booked.customer = 0 AND held.other = 0
                    AND booked.seats + held.seats < $22
                    -- Room left in every day and week with a limit.
                    AND NOT EXISTS (SELECT 1 FROM unnest($23::TIMESTAMPTZ[], $24::TIMESTAMPTZ[], $25::BIGINT[])
            WITH ORDINALITY AS period(starts, ends, most, position) WHERE (SELECT count(*) FROM appointments
            WHERE hashtextextended(resource, 0) = hashtextextended($5, 0) AND resource = $5 AND status = 'booked' AND id IS DISTINCT FROM $18
                AND slot_start >= period.starts AND slot_start < period.ends) + (SELECT count(*) FROM slot_holds WHERE resource = $5 AND expires_at > $16 AND token_hash IS DISTINCT FROM $21
            AND slot_start >= period.starts AND slot_start < period.ends) >= period.most) AS open
                FROM (
                    SELECT count(*) FILTER (WHERE slot_start = $6 AND slot_end = $7) AS seats,
                        count(*) FILTER (WHERE NOT (slot_start = $6 AND slot_end = $7)) AS other,
                        count(*) FILTER (WHERE slot_start = $6 AND slot_end = $7 AND lower(customer_email) = lower($11))
                            AS customer
                    FROM appointments
                    WHERE hashtextextended(resource, 0) = hashtextextended($5, 0) AND resource = $5 AND status = 'booked' AND id IS DISTINCT FROM $18
                        AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($8, $9, '[)')
                ) AS booked, (
                    SELECT count(*) FILTER (WHERE slot_start = $6 AND slot_end = $7) AS seats, count(*) FILTER (WHERE NOT (slot_start = $6 AND slot_end = $7)) AS other
                    FROM slot_holds
                    WHERE resource = $5 AND expires_at > $16 AND token_hash IS DISTINCT FROM $21
                        AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($8, $9, '[)')
                ) AS held
            ) AS claim
        ), lapsed AS (
            DELETE FROM slot_holds WHERE resource = $5 AND expires_at <= $16 AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($8, $9, '[)')
        ), used AS (
            DELETE FROM slot_holds
            WHERE token_hash IN (SELECT token_hash FROM claim_hold) AND (SELECT ok FROM claim_guard)
            RETURNING token_hash
        ), inserted AS (
            INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note, status,
                cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, sealed_cancel_token, seat)
            SELECT $5, $6, $7, $8, $9, $10,
                $11, $12, 'booked', $13, $14, $15,
                $16, $16, $17, (SELECT min(free.seat) FROM generate_series(0, (SELECT count(*) FROM appointments WHERE resource = $5 AND slot_start = $6 AND status = 'booked'
            AND id IS DISTINCT FROM $18)::INTEGER) AS free(seat)
            WHERE free.seat NOT IN (SELECT seat FROM appointments WHERE resource = $5 AND slot_start = $6 AND status = 'booked'
            AND id IS DISTINCT FROM $18))
            WHERE (SELECT ok FROM claim_guard)
                -- The hold must still be there to be used: a release that committed first wins.
                AND ($21::TEXT IS NULL OR EXISTS (SELECT 1 FROM used))
            RETURNING id, resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note,
        status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, cancelled_at,
        sealed_cancel_token, sequence
        ), notifications AS (
            INSERT INTO notifications (appointment_id, kind, reminder_lead_seconds, status, attempts,
                next_attempt_at, created_at, updated_at)
            SELECT inserted.id, event.kind, event.lead_seconds, 'pending', 0, event.due_at, $16, $16
            FROM inserted, (
                SELECT 0::BIGINT AS position, 'booked' AS kind, 0::BIGINT AS lead_seconds, $16 AS due_at
                UNION ALL
                SELECT reminder.position, 'reminder', reminder.lead_seconds, reminder.due_at
                FROM unnest($19::BIGINT[], $20::TIMESTAMPTZ[])
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
        WHERE idempotency_key = $14 AND NOT EXISTS (SELECT 1 FROM inserted)
            INTO id, resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note, status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, cancelled_at, sealed_cancel_token, sequence, created;
            -- Its failure is this call's error, before any row is sent.
            COMMIT;
        END
        $procedure$
        """#
}
