extension FirstSeatsProcedure {
    /// The `CREATE PROCEDURE` statement of migration 13, as it shipped: never edit it (see ``FirstSeatsProcedure``).
    static let version2 = #"""
        CREATE PROCEDURE booking_first_seats_v2(arg_locknames TEXT[], arg_lockshared BOOLEAN[], arg_resources TEXT[], arg_slotlocks TEXT[], arg_slotstarts TIMESTAMPTZ[], arg_slotends TIMESTAMPTZ[], arg_occupiedstarts TIMESTAMPTZ[], arg_occupiedends TIMESTAMPTZ[], arg_customernames TEXT[], arg_customeremails TEXT[], arg_notes TEXT[], arg_hasnotes BOOLEAN[], arg_canceltokenhashes TEXT[], arg_requestfingerprints TEXT[], arg_nows TIMESTAMPTZ[], arg_sealedcanceltokens TEXT[], arg_hassealedcanceltokens BOOLEAN[], arg_reminderentries INTEGER[], arg_reminderleads BIGINT[], arg_reminderdues TIMESTAMPTZ[], arg_seatarbiter BOOLEAN, INOUT ids BIGINT[] DEFAULT NULL, INOUT fell_back BOOLEAN DEFAULT NULL)
        LANGUAGE plpgsql
        AS $procedure$
        #variable_conflict use_column
        DECLARE
            slot_locked BOOLEAN[];
            session_lock_wait TEXT := current_setting('lock_timeout');
        BEGIN
            -- Run at READ COMMITTED, as booking_insert does.
            IF current_setting('transaction_isolation') <> 'read committed' THEN
                COMMIT;
                SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
            END IF;
            -- The resources' locks, shared (bookings stay parallel, but wait for a hold being placed), then each
            -- slot's lock, shared, tried: a taker through the claim holds it alone, and that entry then writes
            -- nothing.
            slot_locked := CASE WHEN (SELECT count(*) FROM (
            SELECT CASE WHEN lock.shared THEN pg_advisory_xact_lock_shared(hashtextextended(lock.name, 0))
                ELSE pg_advisory_xact_lock(hashtextextended(lock.name, 0)) END
            FROM unnest(arg_locknames::TEXT[], arg_lockshared::BOOLEAN[]) WITH ORDINALITY AS lock(name, shared, position)
            ORDER BY lock.position
        ) AS taken) IS NULL THEN NULL
                ELSE ARRAY(
                    SELECT pg_try_advisory_xact_lock_shared(hashtextextended(slot_lock.name, 0))
                    FROM unnest(arg_slotlocks) WITH ORDINALITY AS slot_lock(name, position)
                    ORDER BY slot_lock.position)
                END;
            -- The seat index arbitrates; an overlapping booking of another start is an error of the exclusion
            -- constraint, which this insert checks after writing its row: a wait there would hold the call's
            -- rows, and two writers waiting so for each other deadlock. So each of its lock waits ends after
            -- 10 ms, and on any of the three errors this block's work is undone and the same insert with no
            -- arbiter runs instead, as version 1 did, waiting before each row it writes (up to the session's
            -- lock_timeout): it writes nothing for an entry in the way and stores the others. The caller, told
            -- that this call fell back, may ask for that insert alone for a while.
            fell_back := FALSE;
            IF arg_seatarbiter THEN
                BEGIN
                    PERFORM set_config('lock_timeout', '10ms', true);
                    WITH entry AS (
                        SELECT * FROM unnest(arg_resources, arg_slotstarts, arg_slotends, arg_occupiedstarts, arg_occupiedends,
                            arg_customernames, arg_customeremails, arg_notes, arg_hasnotes, arg_canceltokenhashes,
                            arg_requestfingerprints, arg_nows, arg_sealedcanceltokens, arg_hassealedcanceltokens, slot_locked)
                            WITH ORDINALITY AS entry(resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                                customer_email, note, has_note, cancel_token_hash, request_fingerprint, now, sealed_cancel_token,
                                has_sealed_cancel_token, locked, position)
                    ), inserted AS (
                        INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note, status,
                            cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, sealed_cancel_token, seat)
                        SELECT entry.resource, entry.slot_start, entry.slot_end, entry.occupied_start, entry.occupied_end, entry.customer_name,
                            entry.customer_email, (CASE WHEN entry.has_note THEN entry.note END), 'booked', entry.cancel_token_hash, NULL::TEXT, entry.request_fingerprint,
                            entry.now, entry.now, (CASE WHEN entry.has_sealed_cancel_token THEN entry.sealed_cancel_token END), 0
                        FROM entry
                        -- Each probe a subquery of its own per entry (never a join, whose plan, made once per session
                        -- from the table's statistics of the moment, could read every booking at each call).
                        WHERE entry.locked
                            AND NOT (SELECT EXISTS (SELECT 1 FROM appointments WHERE resource = entry.resource AND slot_start = entry.slot_start AND status = 'booked'
                        AND id IS DISTINCT FROM NULL::BIGINT))
                            AND NOT (SELECT EXISTS (
                                SELECT 1 FROM slot_holds
                                WHERE resource = entry.resource AND expires_at > entry.now
                                    AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange(entry.occupied_start, entry.occupied_end, '[)')))
                        ORDER BY entry.position
                        ON CONFLICT (slot_start, resource, seat) WHERE status = 'booked' DO NOTHING
                        RETURNING id, resource, slot_start
                    ), stored AS (
                        SELECT inserted.id, entry.position, entry.now
                        FROM inserted JOIN entry ON entry.resource = inserted.resource AND entry.slot_start = inserted.slot_start
                    ), notifications AS (
                        -- Each appointment's booked notification, then its reminders in order.
                        INSERT INTO notifications (appointment_id, kind, reminder_lead_seconds, status, attempts,
                            next_attempt_at, created_at, updated_at)
                        SELECT stored.id, event.kind, event.lead_seconds, 'pending', 0, event.due_at, stored.now, stored.now
                        FROM stored, LATERAL (
                            SELECT 0::BIGINT AS position, 'booked' AS kind, 0::BIGINT AS lead_seconds, stored.now AS due_at
                            UNION ALL
                            SELECT reminder.position, 'reminder', reminder.lead_seconds, reminder.due_at
                            FROM unnest(arg_reminderentries, arg_reminderleads, arg_reminderdues)
                                WITH ORDINALITY AS reminder(entry, lead_seconds, due_at, position)
                            WHERE reminder.entry = stored.position
                        ) AS event
                        ORDER BY stored.position, event.position
                    )
                    SELECT coalesce(array_agg(coalesce(stored.id, 0) ORDER BY entry.position), '{}')
                    FROM entry LEFT JOIN stored ON stored.position = entry.position
                    INTO ids;
                    PERFORM set_config('lock_timeout', session_lock_wait, true);
                EXCEPTION WHEN exclusion_violation OR lock_not_available OR deadlock_detected THEN
                    fell_back := TRUE;
                    WITH entry AS (
                        SELECT * FROM unnest(arg_resources, arg_slotstarts, arg_slotends, arg_occupiedstarts, arg_occupiedends,
                            arg_customernames, arg_customeremails, arg_notes, arg_hasnotes, arg_canceltokenhashes,
                            arg_requestfingerprints, arg_nows, arg_sealedcanceltokens, arg_hassealedcanceltokens, slot_locked)
                            WITH ORDINALITY AS entry(resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                                customer_email, note, has_note, cancel_token_hash, request_fingerprint, now, sealed_cancel_token,
                                has_sealed_cancel_token, locked, position)
                    ), inserted AS (
                        INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note, status,
                            cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, sealed_cancel_token, seat)
                        SELECT entry.resource, entry.slot_start, entry.slot_end, entry.occupied_start, entry.occupied_end, entry.customer_name,
                            entry.customer_email, (CASE WHEN entry.has_note THEN entry.note END), 'booked', entry.cancel_token_hash, NULL::TEXT, entry.request_fingerprint,
                            entry.now, entry.now, (CASE WHEN entry.has_sealed_cancel_token THEN entry.sealed_cancel_token END), 0
                        FROM entry
                        -- Each probe a subquery of its own per entry (never a join, whose plan, made once per session
                        -- from the table's statistics of the moment, could read every booking at each call).
                        WHERE entry.locked
                            AND NOT (SELECT EXISTS (SELECT 1 FROM appointments WHERE resource = entry.resource AND slot_start = entry.slot_start AND status = 'booked'
                        AND id IS DISTINCT FROM NULL::BIGINT))
                            AND NOT (SELECT EXISTS (
                                SELECT 1 FROM slot_holds
                                WHERE resource = entry.resource AND expires_at > entry.now
                                    AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange(entry.occupied_start, entry.occupied_end, '[)')))
                        ORDER BY entry.position
                        ON CONFLICT DO NOTHING
                        RETURNING id, resource, slot_start
                    ), stored AS (
                        SELECT inserted.id, entry.position, entry.now
                        FROM inserted JOIN entry ON entry.resource = inserted.resource AND entry.slot_start = inserted.slot_start
                    ), notifications AS (
                        -- Each appointment's booked notification, then its reminders in order.
                        INSERT INTO notifications (appointment_id, kind, reminder_lead_seconds, status, attempts,
                            next_attempt_at, created_at, updated_at)
                        SELECT stored.id, event.kind, event.lead_seconds, 'pending', 0, event.due_at, stored.now, stored.now
                        FROM stored, LATERAL (
                            SELECT 0::BIGINT AS position, 'booked' AS kind, 0::BIGINT AS lead_seconds, stored.now AS due_at
                            UNION ALL
                            SELECT reminder.position, 'reminder', reminder.lead_seconds, reminder.due_at
                            FROM unnest(arg_reminderentries, arg_reminderleads, arg_reminderdues)
                                WITH ORDINALITY AS reminder(entry, lead_seconds, due_at, position)
                            WHERE reminder.entry = stored.position
                        ) AS event
                        ORDER BY stored.position, event.position
                    )
                    SELECT coalesce(array_agg(coalesce(stored.id, 0) ORDER BY entry.position), '{}')
                    FROM entry LEFT JOIN stored ON stored.position = entry.position
                    INTO ids;
                END;
            ELSE
                WITH entry AS (
                    SELECT * FROM unnest(arg_resources, arg_slotstarts, arg_slotends, arg_occupiedstarts, arg_occupiedends,
                        arg_customernames, arg_customeremails, arg_notes, arg_hasnotes, arg_canceltokenhashes,
                        arg_requestfingerprints, arg_nows, arg_sealedcanceltokens, arg_hassealedcanceltokens, slot_locked)
                        WITH ORDINALITY AS entry(resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                            customer_email, note, has_note, cancel_token_hash, request_fingerprint, now, sealed_cancel_token,
                            has_sealed_cancel_token, locked, position)
                ), inserted AS (
                    INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note, status,
                        cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, sealed_cancel_token, seat)
                    SELECT entry.resource, entry.slot_start, entry.slot_end, entry.occupied_start, entry.occupied_end, entry.customer_name,
                        entry.customer_email, (CASE WHEN entry.has_note THEN entry.note END), 'booked', entry.cancel_token_hash, NULL::TEXT, entry.request_fingerprint,
                        entry.now, entry.now, (CASE WHEN entry.has_sealed_cancel_token THEN entry.sealed_cancel_token END), 0
                    FROM entry
                    -- Each probe a subquery of its own per entry (never a join, whose plan, made once per session
                    -- from the table's statistics of the moment, could read every booking at each call).
                    WHERE entry.locked
                        AND NOT (SELECT EXISTS (SELECT 1 FROM appointments WHERE resource = entry.resource AND slot_start = entry.slot_start AND status = 'booked'
                    AND id IS DISTINCT FROM NULL::BIGINT))
                        AND NOT (SELECT EXISTS (
                            SELECT 1 FROM slot_holds
                            WHERE resource = entry.resource AND expires_at > entry.now
                                AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange(entry.occupied_start, entry.occupied_end, '[)')))
                    ORDER BY entry.position
                    ON CONFLICT DO NOTHING
                    RETURNING id, resource, slot_start
                ), stored AS (
                    SELECT inserted.id, entry.position, entry.now
                    FROM inserted JOIN entry ON entry.resource = inserted.resource AND entry.slot_start = inserted.slot_start
                ), notifications AS (
                    -- Each appointment's booked notification, then its reminders in order.
                    INSERT INTO notifications (appointment_id, kind, reminder_lead_seconds, status, attempts,
                        next_attempt_at, created_at, updated_at)
                    SELECT stored.id, event.kind, event.lead_seconds, 'pending', 0, event.due_at, stored.now, stored.now
                    FROM stored, LATERAL (
                        SELECT 0::BIGINT AS position, 'booked' AS kind, 0::BIGINT AS lead_seconds, stored.now AS due_at
                        UNION ALL
                        SELECT reminder.position, 'reminder', reminder.lead_seconds, reminder.due_at
                        FROM unnest(arg_reminderentries, arg_reminderleads, arg_reminderdues)
                            WITH ORDINALITY AS reminder(entry, lead_seconds, due_at, position)
                        WHERE reminder.entry = stored.position
                    ) AS event
                    ORDER BY stored.position, event.position
                )
                SELECT coalesce(array_agg(coalesce(stored.id, 0) ORDER BY entry.position), '{}')
                FROM entry LEFT JOIN stored ON stored.position = entry.position
                INTO ids;
            END IF;
            -- Its failure is this call's error, before any row is sent.
            COMMIT;
        END
        $procedure$
        """#
}
