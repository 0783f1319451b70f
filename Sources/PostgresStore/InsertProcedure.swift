import PostgresNIO

/// `booking_insert_v5`, the PL/pgSQL procedure that makes a booking in one call and one round trip.
///
/// It first tries the first seat of an empty slot (``ClaimSQL/firstSeatInsert``) when the call asks for it
/// (`firstSeat`) and the booking uses no hold and counts no limits: under the key's and the resource's locks and
/// the slot's shared, without the guard. Most bookings take a slot nobody has booked. First tries of one slot run
/// side by side and meet at the seat index, where the one that comes second writes nothing; a taker through the
/// claim holds the slot's lock alone, so a first try finding it held goes to the claim. When that try finds the
/// slot's lock held or something in the slot's way, the procedure commits the nothing it did (releasing those locks) and the claim follows in a
/// transaction of its own. The claim is that of ``PostgresStore/settle(_:taking:slotLock:on:_:)`` with the check before the locks
/// only where it spares a wait: ``ClaimSQL/takeLocksThenSlotLock`` first takes the locks and tries the slot's;
/// while another taker holds the slot's lock, ``ClaimSQL/check`` decides in a snapshot of its own whether the
/// booking is refused already (a full slot is answered at once, without queueing behind its taker) or a replay,
/// and otherwise the booking waits for that taker to finish and tries again, ``PostgresStore/slotLockTries``
/// times, then queues for the lock. With day or week limits, whose locks are exclusive, the check also runs
/// before any lock, so a refused booking never queues for them. Then ``ClaimSQL/insert`` checks again and writes.
///
/// The procedure runs at READ COMMITTED whatever the session's default (the store's sessions default to it;
/// another session's `CALL` transaction, which has done nothing, is ended first and one at READ COMMITTED
/// started), so each statement takes a snapshot of its own and the check under the locks sees everything
/// committed before they were granted, and it ends with `COMMIT`.
/// An error raised when that transaction commits (a deferred trigger) is the `CALL`'s own error, reported
/// before any row: PostgresNIO hands over a single statement's rows without reporting an error
/// raised at its implicit commit, which is why the function it replaces (``version1``) was called between
/// `BEGIN` and `COMMIT`, three round trips instead of one. A `CALL` inside a transaction block fails
/// (SQLSTATE 2D000) and changes nothing. A statement timeout or cancel that falls due during the final commit
/// is raised after it, as the `CALL`'s error (SQLSTATE 57014) with the booking stored:
/// ``PostgresStore/insert(_:)`` then looks the booking up.
///
/// It answers one row: the appointment and whether it was created, or every column `NULL` when a check refused
/// (``ClaimFactsStatement`` then reads what stands in the way). The whole call is one statement, so
/// `statement_timeout` bounds the booking with all its waits.
///
/// Migration 12 creates ``version5``, the text frozen when it shipped; a test compares it with ``definition``,
/// the text these pieces make now. When they differ, add a migration creating `booking_insert_v6` from
/// ``definition`` and call that, and leave ``version5`` as it is: databases migrated earlier keep it, as they
/// keep ``version4`` of migration 10, ``version3`` of migration 9 and ``version2`` of migration 8, for processes
/// of those releases still running during an upgrade.
enum InsertProcedure {
    static let name = "booking_insert_v5"

    /// The procedure's arguments, in order: every value its statements use, except whether to try the slot's
    /// lock (a variable of the procedure). The columns of its answer follow them (``answerColumns``).
    static let arguments: [ClaimParameter] = {
        let combined: ClaimSQL = """
            \(ClaimParameter.firstSeat)\(ClaimSQL.takeLocks)\(ClaimParameter.slotLock)\(ClaimSQL.firstSeatInsert)\
            \(ClaimSQL.takeLocksThenSlotLock)\(ClaimSQL.check)\(ClaimSQL.insert)
            """
        return combined.parameters.filter { $0 != .trySlotLock }
    }()

    /// The name of the argument for `parameter`: the call names every argument, so a procedure whose arguments
    /// differ fails loudly instead of taking values in the wrong places.
    static func argumentName(_ parameter: ClaimParameter) -> String {
        "arg_" + "\(parameter)".lowercased()
    }

    /// How the procedure's statements name a value: its argument `$n`, or the variable `try_slot_lock`.
    private static func reference(_ parameter: ClaimParameter) -> String {
        guard let position = arguments.firstIndex(of: parameter) else { return "try_slot_lock" }
        return "$\(position + 1)"
    }

    /// The SQL type of an argument.
    private static func sqlType(_ parameter: ClaimParameter) -> String {
        guard let name = ClaimValues.type(of: parameter).knownSQLName else {
            preconditionFailure("no SQL name for the type of \(parameter)")
        }
        return name
    }

    /// The columns of the answer, each an `INOUT` parameter defaulting to `NULL` (so the call names none of
    /// them): the appointment's columns, as ``PostgresStore/record(_:)`` reads them, and whether it was created.
    static let answerColumns: [(name: String, type: String)] = [
        ("id", "BIGINT"), ("resource", "TEXT"), ("slot_start", "TIMESTAMPTZ"), ("slot_end", "TIMESTAMPTZ"),
        ("occupied_start", "TIMESTAMPTZ"), ("occupied_end", "TIMESTAMPTZ"), ("customer_name", "TEXT"),
        ("customer_email", "TEXT"), ("note", "TEXT"), ("status", "TEXT"), ("cancel_token_hash", "TEXT"),
        ("idempotency_key", "TEXT"), ("request_fingerprint", "TEXT"), ("created_at", "TIMESTAMPTZ"),
        ("updated_at", "TIMESTAMPTZ"), ("cancelled_at", "TIMESTAMPTZ"), ("sealed_cancel_token", "TEXT"),
        ("sequence", "INTEGER"), ("created", "BOOLEAN"),
    ]

    /// The procedure's parameters: the arguments, then the answer's columns.
    static let parameterList: String = {
        let argumentList = arguments.map { "\(argumentName($0)) \(sqlType($0))" }.joined(separator: ", ")
        let answerList = answerColumns.map { "INOUT \($0.name) \($0.type) DEFAULT NULL" }.joined(separator: ", ")
        return "\(argumentList), \(answerList)"
    }()

    /// The `CREATE PROCEDURE` statement these pieces make now.
    static let definition: String = {
        let answerTargets = answerColumns.map(\.name).joined(separator: ", ")
        let check = ClaimSQL.check.text(naming: reference)
        return """
            CREATE PROCEDURE \(name)(\(parameterList))
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
                IF \(reference(.firstSeat)) AND \(reference(.holdTokenHash)) IS NULL
                    AND cardinality(\(reference(.periodStarts))) = 0
                THEN
                    PERFORM (\(ClaimSQL.takeLocks.text(naming: reference)));
                    IF pg_try_advisory_xact_lock_shared(hashtextextended(\(reference(.slotLock)), 0)) THEN
                        \(ClaimSQL.firstSeatInsert.text(naming: reference))
                        INTO \(answerTargets);
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
                IF cardinality(\(reference(.periodStarts))) > 0 THEN
                    SELECT claim.ok, claim.replay INTO claim_ok, claim_replay FROM (\(check)) AS claim;
                    IF NOT claim_ok AND NOT claim_replay THEN
                        -- A refusal ends the transaction too, so the call fails inside a caller's block whatever it
                        -- answers (SQLSTATE 2D000).
                        COMMIT;
                        RETURN;
                    END IF;
                END IF;
                LOOP
                    SELECT \(ClaimSQL.takeLocksThenSlotLock.text(naming: reference)) INTO claim_locked;
                    EXIT WHEN claim_locked;
                    -- Another taker holds the slot's lock: a refusal or a replay needs no wait.
                    SELECT claim.ok, claim.replay INTO claim_ok, claim_replay FROM (\(check)) AS claim;
                    EXIT WHEN claim_replay;
                    IF NOT claim_ok THEN
                        COMMIT;
                        RETURN;
                    END IF;
                    IF slot_waits = \(PostgresStore.slotLockTries) THEN
                        PERFORM pg_advisory_xact_lock(hashtextextended(\(reference(.slotLock)), 0));
                        EXIT;
                    END IF;
                    -- Wait until that taker is done, holding nothing afterwards, and try again.
                    PERFORM pg_advisory_lock_shared(hashtextextended(\(reference(.slotLock)), 0)),
                        pg_advisory_unlock_shared(hashtextextended(\(reference(.slotLock)), 0));
                    slot_waits := slot_waits + 1;
                END LOOP;
                \(ClaimSQL.insert.text(naming: reference))
                INTO \(answerTargets);
                -- Its failure is this call's error, before any row is sent.
                COMMIT;
            END
            $procedure$
            """
    }()
}
