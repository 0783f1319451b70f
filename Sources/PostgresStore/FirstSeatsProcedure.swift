/// `booking_first_seats_v2`, the PL/pgSQL procedure that tries the first seats of several empty slots in one call,
/// one transaction and one commit: the bookings that ``PostgresStore/insert(_:)`` received together (see
/// ``FirstSeatBatcher``).
///
/// Each entry is the first try of ``InsertProcedure`` for one booking that uses no hold, counts no limits and has no
/// idempotency key, under the same locks: the resources' shared (all of them, in order), then each entry's slot's
/// shared, tried without waiting, in a statement before the insert (so the insert's snapshot follows every lock, as
/// in ``InsertProcedure``). Then one statement inserts, for each entry whose slot's lock it got, the appointment on
/// seat 0 and its notifications, as ``ClaimSQL/firstSeatInsert`` does for one: only when the slot has no booked
/// appointment and no live hold overlaps it, and `ON CONFLICT ... DO NOTHING` at the seat index (another taker of
/// the slot). No two entries of a call overlap or share a start (the store runs such an entry alone), so entries
/// never meet each other there, and an inserted row is matched to its entry by resource and start.
///
/// An overlapping booking of another start is refused by the exclusion constraint. Naming only the seat index as
/// the conflict's arbiter keeps the constraint an ordinary check: PostgreSQL searches its GiST index twice per row,
/// as for any insert, where a conflict clause naming no index (``version1``) searched it a third time first, on
/// every row (40 to 70 µs less of PostgreSQL's CPU per booking at 127,000 bookings, in two A/B runs; BENCHMARKS.md,
/// session 27).
/// The refusal is then an error, and the check comes after the row is written: waiting there for another writer's
/// uncommitted row would hold this call's rows, and two writers waiting so for each other deadlock. So that insert
/// runs in a block of its own whose every lock wait ends after ``firstInsertLockWait`` (even when the store's
/// `lock_timeout` is shorter); on the constraint's error, a lock timeout or a deadlock, the block's work is undone
/// and the same insert with ``version1``'s conflict clause runs instead, as version 1 did: it waits before each row it
/// writes (up to the store's `lock_timeout`), holding the rows of the entries before it, which every call takes in
/// one order, and stores the other entries. The block is a subtransaction, one per call, not per entry; an undone
/// insert leaves its rows dead in the table and its indexes until vacuumed. Where most calls meet an overlapping
/// booking in flight (adjacent slots with buffers, booked at once), those redone inserts cost about a quarter of the
/// attempts' rate (BENCHMARKS.md, session 27), so the answer says whether the call fell back (`fell_back`), and
/// `arg_seatarbiter` false skips the first insert: ``PostgresStore`` asks for that for a while after a call fell back
/// (`PostgresStore.seatArbiterPause`), and the two then read alike on that load.
///
/// It answers one row: `ids`, each entry's new appointment id, or 0 for an entry that wrote nothing (that booking
/// then takes the claim of ``InsertProcedure``, which says what stands in the way), and `fell_back`. Any other error ends the whole
/// call with nothing written, and every booking of it runs alone. It ends with `COMMIT`, so the answer comes after the
/// commit; a `CALL` inside a transaction block fails (SQLSTATE 2D000) and changes nothing.
///
/// Migration 13 creates ``version2``, the text frozen when it shipped; a test compares it with ``definition``. When
/// they differ, add a migration creating `booking_first_seats_v3` and call that, and leave ``version2`` as it is:
/// databases migrated earlier keep it, as they keep ``version1`` of migration 11, for processes of those releases
/// still running during an upgrade.
enum FirstSeatsProcedure {
    static let name = "booking_first_seats_v2"

    /// One argument of the procedure: an array with an element per entry (per resource for the locks, per reminder
    /// for the reminders), or, last, whether to try the insert with the seat index as the arbiter first.
    struct Argument: Sendable {
        let name: String
        let sqlType: String
    }

    /// The procedure's arguments, in the order ``FirstSeatsCall`` binds them.
    static let arguments: [Argument] = [
        Argument(name: "arg_locknames", sqlType: "TEXT[]"),
        Argument(name: "arg_lockshared", sqlType: "BOOLEAN[]"),
        Argument(name: "arg_resources", sqlType: "TEXT[]"),
        Argument(name: "arg_slotlocks", sqlType: "TEXT[]"),
        Argument(name: "arg_slotstarts", sqlType: "TIMESTAMPTZ[]"),
        Argument(name: "arg_slotends", sqlType: "TIMESTAMPTZ[]"),
        Argument(name: "arg_occupiedstarts", sqlType: "TIMESTAMPTZ[]"),
        Argument(name: "arg_occupiedends", sqlType: "TIMESTAMPTZ[]"),
        Argument(name: "arg_customernames", sqlType: "TEXT[]"),
        Argument(name: "arg_customeremails", sqlType: "TEXT[]"),
        Argument(name: "arg_notes", sqlType: "TEXT[]"),
        Argument(name: "arg_hasnotes", sqlType: "BOOLEAN[]"),
        Argument(name: "arg_canceltokenhashes", sqlType: "TEXT[]"),
        Argument(name: "arg_requestfingerprints", sqlType: "TEXT[]"),
        Argument(name: "arg_nows", sqlType: "TIMESTAMPTZ[]"),
        Argument(name: "arg_sealedcanceltokens", sqlType: "TEXT[]"),
        Argument(name: "arg_hassealedcanceltokens", sqlType: "BOOLEAN[]"),
        Argument(name: "arg_reminderentries", sqlType: "INTEGER[]"),
        Argument(name: "arg_reminderleads", sqlType: "BIGINT[]"),
        Argument(name: "arg_reminderdues", sqlType: "TIMESTAMPTZ[]"),
        Argument(name: "arg_seatarbiter", sqlType: "BOOLEAN"),
    ]

    /// How the insert names a value of a booking: the column of the entry's row (`entry`, one row per entry), or
    /// `NULL` for what a booking tried together never has.
    private static func column(_ parameter: ClaimParameter) -> String {
        switch parameter {
        case .resource: "entry.resource"
        case .slotStart: "entry.slot_start"
        case .slotEnd: "entry.slot_end"
        case .occupiedStart: "entry.occupied_start"
        case .occupiedEnd: "entry.occupied_end"
        case .customerName: "entry.customer_name"
        case .customerEmail: "entry.customer_email"
        case .note: "(CASE WHEN entry.has_note THEN entry.note END)"
        case .cancelTokenHash: "entry.cancel_token_hash"
        case .requestFingerprint: "entry.request_fingerprint"
        case .now: "entry.now"
        case .sealedCancelToken: "(CASE WHEN entry.has_sealed_cancel_token THEN entry.sealed_cancel_token END)"
        case .idempotencyKey: "NULL::TEXT"
        case .movingID: "NULL::BIGINT"
        case .lockNames: "arg_locknames"
        case .lockShared: "arg_lockshared"
        default: preconditionFailure("a first try made together has no value for \(parameter)")
        }
    }

    /// The statement that inserts the entries' appointments and notifications and reads their ids `INTO ids`, with
    /// `conflict`, its `ON CONFLICT` clause, indented by `indent` spaces.
    private static func insertStatement(conflict: String, indent: Int) -> String {
        let statement = """
            WITH entry AS (
                SELECT * FROM unnest(arg_resources, arg_slotstarts, arg_slotends, arg_occupiedstarts, arg_occupiedends,
                    arg_customernames, arg_customeremails, arg_notes, arg_hasnotes, arg_canceltokenhashes,
                    arg_requestfingerprints, arg_nows, arg_sealedcanceltokens, arg_hassealedcanceltokens, slot_locked)
                    WITH ORDINALITY AS entry(resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                        customer_email, note, has_note, cancel_token_hash, request_fingerprint, now, sealed_cancel_token,
                        has_sealed_cancel_token, locked, position)
            ), inserted AS (
                INSERT INTO appointments (\(ClaimSQL.appointmentInsertColumns.text(naming: column)))
                SELECT \(ClaimSQL.appointmentInsertValues.text(naming: column)), 0
                FROM entry
                -- Each probe a subquery of its own per entry (never a join, whose plan, made once per session
                -- from the table's statistics of the moment, could read every booking at each call).
                WHERE entry.locked
                    AND NOT (SELECT EXISTS (SELECT 1 FROM \(ClaimSQL.bookedInSlot.text(naming: column))))
                    AND NOT (SELECT EXISTS (
                        SELECT 1 FROM slot_holds
                        WHERE resource = entry.resource AND expires_at > entry.now
                            AND \(ClaimSQL.overlapsOccupied.text(naming: column))))
                ORDER BY entry.position
                \(conflict)
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
            """
        let margin = String(repeating: " ", count: indent)
        return statement.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : margin + $0 }.joined(separator: "\n")
    }

    /// The conflict clause of ``version1``: no arbiter, so every unique index and the exclusion constraint are
    /// searched before the insert as well as at it, and any conflict writes nothing.
    private static let anyConflict = "ON CONFLICT DO NOTHING"

    /// The conflict clause tried first: another first try of the slot, at the seat index (`appointments_seats`).
    private static let seatConflict = "ON CONFLICT (slot_start, resource, seat) WHERE status = 'booked' DO NOTHING"

    /// How long each lock wait of the insert tried first lasts at most (another writer's uncommitted row in its way)
    /// before that insert gives way to the one with ``anyConflict``.
    static let firstInsertLockWait = "10ms"

    /// The `CREATE PROCEDURE` statement these pieces make now.
    static let definition: String = {
        let argumentList = arguments.map { "\($0.name) \($0.sqlType)" }.joined(separator: ", ")
        return """
            CREATE PROCEDURE \(name)(\(argumentList), INOUT ids BIGINT[] DEFAULT NULL, INOUT fell_back BOOLEAN DEFAULT NULL)
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
                slot_locked := CASE WHEN (\(ClaimSQL.takeLocks.text(naming: column))) IS NULL THEN NULL
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
                        PERFORM set_config('lock_timeout', '\(firstInsertLockWait)', true);
            \(insertStatement(conflict: seatConflict, indent: 12))
                        PERFORM set_config('lock_timeout', session_lock_wait, true);
                    EXCEPTION WHEN exclusion_violation OR lock_not_available OR deadlock_detected THEN
                        fell_back := TRUE;
            \(insertStatement(conflict: anyConflict, indent: 12))
                    END;
                ELSE
            \(insertStatement(conflict: anyConflict, indent: 8))
                END IF;
                -- Its failure is this call's error, before any row is sent.
                COMMIT;
            END
            $procedure$
            """
    }()
}
