import PostgresNIO

/// `booking_insert_v1`, the PL/pgSQL function that makes a booking in one statement.
///
/// Its body is the claim of ``PostgresStore/settle(_:taking:slotLock:on:_:)``, in the same order, but with the
/// check before the locks only when it can spare a wait: ``ClaimSQL/takeLocksThenSlotLock`` first tries every
/// lock; while another taker holds the slot's lock, ``ClaimSQL/check`` decides in a snapshot of its own whether
/// the booking is refused already (a full slot is answered at once, without queueing behind its taker) or a
/// replay, and otherwise the booking waits for that taker to finish and tries again,
/// ``PostgresStore/slotLockTries`` times, then queues for the lock. Then ``ClaimSQL/insert`` checks again and
/// writes. At READ COMMITTED each statement of a function takes a snapshot of its own, so that check sees
/// everything committed before its locks were granted; the function refuses to run at any other isolation
/// level. It returns the appointment and whether it was created, or no row when a check refused
/// (``ClaimFactsStatement`` then reads what stands in the way).
///
/// A booking of a free slot thus runs two statements on the server: the check before the locks, which moves and
/// holds still run first, cost more than a third of the server's time per booking (its plan and index scans).
///
/// The store sends `BEGIN`, the call and `COMMIT` at once (``PostgresStore/insert(_:)``), so the booking costs
/// the client one wait, and its answer is the `COMMIT`'s: PostgresNIO hands over a single statement's rows
/// without reporting an error raised when its implicit transaction commits.
///
/// Migration 7 creates it from these pieces. Its text is pinned by a test: a change to the SQL it embeds needs
/// a new migration creating `booking_insert_v2`, so processes of the older release keep their function.
enum InsertFunction {
    static let name = "booking_insert_v1"

    /// The function's arguments, in order: every value its two statements use, except whether to try the
    /// slot's lock (a variable of the function).
    static let arguments: [ClaimParameter] = {
        let combined: ClaimSQL = "\(ClaimSQL.takeLocksThenSlotLock)\(ClaimSQL.check)\(ClaimSQL.insert)"
        return combined.parameters.filter { $0 != .trySlotLock }
    }()

    /// How the function's statements name a value: its argument `$n`, or the variable `try_slot_lock`.
    private static func reference(_ parameter: ClaimParameter) -> String {
        guard let position = arguments.firstIndex(of: parameter) else { return "try_slot_lock" }
        return "$\(position + 1)"
    }

    /// The `CREATE FUNCTION` statement.
    static let definition: String = {
        let argumentList = arguments.map { ClaimValues.type(of: $0).knownSQLName ?? "TEXT" }.joined(separator: ", ")
        return """
            CREATE FUNCTION \(name)(\(argumentList))
            RETURNS TABLE (
                id BIGINT, resource TEXT, slot_start TIMESTAMPTZ, slot_end TIMESTAMPTZ, occupied_start TIMESTAMPTZ,
                occupied_end TIMESTAMPTZ, customer_name TEXT, customer_email TEXT, note TEXT, status TEXT,
                cancel_token_hash TEXT, idempotency_key TEXT, request_fingerprint TEXT, created_at TIMESTAMPTZ,
                updated_at TIMESTAMPTZ, cancelled_at TIMESTAMPTZ, sealed_cancel_token TEXT, sequence INTEGER,
                created BOOLEAN
            )
            LANGUAGE plpgsql VOLATILE
            AS $function$
            #variable_conflict use_column
            DECLARE
                claim_locked BOOLEAN;
                claim_ok BOOLEAN;
                claim_replay BOOLEAN;
                try_slot_lock BOOLEAN := TRUE;
                slot_waits INTEGER := 0;
            BEGIN
                IF current_setting('transaction_isolation') <> 'read committed' THEN
                    RAISE EXCEPTION '\(name) runs at READ COMMITTED only' USING ERRCODE = '25001';
                END IF;
                LOOP
                    SELECT \(ClaimSQL.takeLocksThenSlotLock.text(naming: reference)) INTO claim_locked;
                    EXIT WHEN claim_locked;
                    -- Another taker holds the slot's lock: a refusal or a replay needs no wait.
                    SELECT claim.ok, claim.replay INTO claim_ok, claim_replay
                    FROM (\(ClaimSQL.check.text(naming: reference))) AS claim;
                    EXIT WHEN claim_replay;
                    IF NOT claim_ok THEN
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
                RETURN QUERY \(ClaimSQL.insert.text(naming: reference));
            END
            $function$
            """
    }()

    /// `SELECT * FROM booking_insert_v1($1, ..., $n)` with `values` bound: an unnamed statement, since parsing and
    /// planning a call costs next to nothing (the function keeps the plans of its statements per connection).
    static func call(_ values: ClaimValues) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments { values.bind(argument, into: &bindings) }
        let placeholders = arguments.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
        return PostgresQuery(unsafeSQL: "SELECT * FROM \(name)(\(placeholders))", binds: bindings)
    }
}
