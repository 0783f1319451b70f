public import BookingDomain
public import Foundation
public import Logging
public import PostgresNIO
import Synchronization

/// A `BookingStore` on PostgreSQL through PostgresNIO's pooled `PostgresClient`.
///
/// ```swift
/// let store = try PostgresStore(configuration: .init(url: "postgres://booking@127.0.0.1:5432/booking"), logger: logger)
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { await store.run() }   // or add `store` to your ServiceGroup
///     try await store.migrate()
///     let service = BookingService(store: store)
///     // ...
/// }
/// ```
///
/// - An `EXCLUDE USING gist` constraint keeps the booked occupied intervals of different slots of a
///   resource disjoint (the seats of one slot share theirs), so any number of processes can share one
///   database; violations become `slotUnavailable`.
/// - Capacity, day and week limits and holds (invariant 12) are checked by the statement that takes the
///   slot, after transaction-scoped advisory locks that serialise every taker it competes with: the
///   resource's (shared by bookings and moves, exclusive for a hold), each limited day's and week's, and the
///   slot's. Holds live in `slot_holds`; a lapsed one takes nothing and is deleted by whoever needs its slot.
///   A booking's first try at an empty slot takes the slot's lock shared and no guard: first tries of one slot
///   meet at the unique index of its seats, and the exclusion constraint refuses overlapping slots (the try
///   then writes nothing, and the claim follows).
/// - Every query binds its values (`PostgresQuery` interpolation, or the named parameters of the prepared
///   statements that take a slot, planned once per connection); a booking writes the appointment and its
///   notifications in one call of a procedure that commits its own transaction (bookings without an idempotency
///   key that arrive together share one call and one commit), a cancel in one statement
///   of an explicit transaction; after the commit the
///   process wakes its own dispatchers directly, and a coalesced `NOTIFY booking_outbox` (at most one per
///   20 ms) wakes those of other processes (a hint: they also poll).
/// - The outbox claim is one `UPDATE ... WHERE id = ANY(ARRAY(SELECT ... FOR UPDATE SKIP LOCKED))`.
/// - Bounds: waiting for a pooled connection is bounded on the client
///   (``Configuration/connectionWaitTimeout``); everything after is bounded by the server
///   (``Configuration/statementTimeout``, ``Configuration/lockTimeout``), so an operation's outcome
///   is never discarded: no booking commits behind a `storeUnavailable`, except one whose connection dies
///   while its call is out and whom another connection cannot find (that error says the outcome is
///   unknown; see `PostgresStore+UnknownOutcomes.swift`). Deadlocks and
///   serialization failures are retried. A lost server makes operations fail with
///   `storeUnavailable`; they work again once it is back.
public final class PostgresStore: BookingStore {
    /// The connection pool, run by ``run()``.
    public let client: PostgresClient
    /// The configuration the client was made from, each value within its range (see ``init(configuration:logger:)``).
    public let configuration: Configuration
    let logger: Logger

    /// The channel `NOTIFY` uses to hint that notifications are due.
    public static let outboxChannel = "booking_outbox"
    /// Requests for a `NOTIFY` after commits; the buffer of one coalesces a burst into one more send.
    let wakeUpRequests = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    /// Fans this store's own commits and the notifications of other processes out to ``outboxWakeUps()``.
    let receivedWakeUps = OutboxSignal()
    /// The payload of this store's `NOTIFY`s, so its listener can tell the echo of its own (whose dispatchers
    /// were woken directly) from another process's.
    let notifyPayload = UUID().uuidString
    /// For each open connection (by id), the statements that take a slot it ran: `true` once one run
    /// succeeded, `false` while its only runs failed (its preparation may have failed).
    let claimsPreparedOn = Mutex<[PostgresConnection.ID: [String: Bool]]>([:])
    /// Abandons the waits for a connection that run out, and loses the operations whose connection died.
    let connectionWatchdog = ConnectionWatchdog()
    /// Holds the leases asked for before ``run()`` started the pool.
    let poolStart = PoolStartGate()
    /// Gathers the first tries of bookings that arrive together into calls of `booking_first_seats_v2`.
    let firstSeatBatcher = FirstSeatBatcher(concurrentCalls: firstSeatCalls, maximumEntries: firstSeatEntries)
    /// Whether bookings try their first seats together: `false` for good once the database refused this process
    /// the call itself (no such procedure, or no right to run it).
    let firstSeatsTogether = Atomic<Bool>(true)
    /// Lets the reads of one window's occupants that arrive while one runs share the next statement.
    let occupantsCoalescer = OccupantsCoalescer()
    /// Until when calls of first seats skip the insert with the seat index as the arbiter: a call that had to fall
    /// back from it sets ``seatArbiterPause`` from its end.
    let seatArbiterPausedUntil = Mutex<ContinuousClock.Instant?>(nil)
    /// When an operation that found the database out of reach last had the cause logged (``explainUnreachable()``).
    let lastUnreachableExplanation = Mutex<ContinuousClock.Instant?>(nil)
    /// How many `migrate()` calls run: they explain an unreachable database in their own error.
    let migrations = Atomic<Int>(0)
    /// How often at most the cause of an unreachable database is logged.
    static let unreachableExplanationInterval: Duration = .seconds(60)

    /// Creates a store and its client; ``run()`` it before using it.
    ///
    /// A configuration value out of its range counts as the nearest in it: a pool of 1 to 10,000 connections, waits
    /// (for a connection, a health check, a connection to open) of at most 1 h, and statement and lock timeouts of
    /// 1 ms to 24 h.
    ///
    /// PostgresNIO's pool logs to `logger` too, but its `info` lines (one per failed connection attempt, ten or more
    /// while a database is out of reach) only when `logger` writes `debug` or finer: otherwise its warnings and errors
    /// alone. The cause is still said: ``migrate()`` names it in its error, and an operation that finds no connection
    /// at any other time has it logged as a warning, at most once a minute (`the database is out of reach`, with a
    /// `cause` such as a refused password or nothing listening).
    public init(configuration: Configuration, logger: Logger) {
        let configuration = configuration.normalized()
        self.configuration = configuration
        self.logger = logger
        var poolLogger = logger
        if poolLogger.logLevel > .debug { poolLogger.logLevel = max(poolLogger.logLevel, .warning) }
        self.client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: poolLogger)
    }

    // MARK: - BookingStore

    /// Inserts the appointment with its `booked` and `reminder` notifications, when the slot can be taken: one
    /// call of the procedure `booking_insert_v5` (see `InsertProcedure`), one round trip, which runs and commits
    /// its own READ COMMITTED transaction, so its answer comes after the commit (durable once it completes). A
    /// booking without an idempotency key makes its first try in a call shared with the bookings that arrive with
    /// it, first (below), and calls `booking_insert_v5` only when that call did not store it.
    ///
    /// A booking that uses no hold and counts no limits first tries the first seat of an empty slot, under the
    /// key's and the resource's locks and the slot's shared (`ClaimSQL.firstSeatInsert`); what another taker
    /// already holds at a unique index or the exclusion constraint makes it write nothing (a deadlock there with
    /// a claim's insert fails the call, which runs again). A booking without an idempotency key makes that try
    /// with the bookings that arrive together, in one call of `booking_first_seats_v2` and one commit
    /// (`FirstSeatBatcher`, `FirstSeatsProcedure`); what it did not store goes on to the claim below, and a
    /// booking whose call failed with an error of its own runs alone. When the try wrote
    /// nothing or a taker through the claim holds the slot's lock, the procedure ends the try's empty
    /// transaction and takes the transaction-scoped advisory locks, in order: the idempotency key's (retries with
    /// one key queue there, and all but the first find its appointment), the resource's (shared: bookings stay
    /// parallel, but wait for a hold being placed), each limited day's and week's, and the slot's (its seats are
    /// taken one at a time). While another transaction holds the slot's lock, it checks the rules in a snapshot
    /// of its own: a booking they refuse is answered at once, without queueing; otherwise it waits for that
    /// transaction to finish and tries again. Under day or week limits it checks before any lock as well. Under
    /// every lock, its next statement checks the rules again, deletes the lapsed holds in the way and the used
    /// hold, and inserts the appointment (on the lowest free seat) and its notifications only if the check
    /// passed; it answers the appointment, or the existing one of a replay. When the procedure refused, another
    /// statement on the same connection reads what stands in the way, to throw what
    /// `BookingRules/refusal(slot:occupied:occupants:periodCounts:emailTaken:)` says; if nothing does any more,
    /// the booking runs again (three calls in all). A call that an index or the exclusion constraint refused
    /// (an overlapping slot's booking committed meanwhile) counts the same way, and the calls after it skip the
    /// first try; when the last of the three was such a call, what stands in the way then is the answer
    /// (`storeUnavailable` if nothing does).
    public func insert(_ new: NewAppointment) async throws(BookingError) -> InsertOutcome {
        try new.validate()
        let (claim, values) = Self.insertClaim(new)
        var insertValues = values
        var lastConflicted = false
        let started = ContinuousClock.now
        do throws(BookingError) {
            // Without a key, with the bookings that arrive together, in one call and one commit.
            if firstSeatsTogether.load(ordering: .relaxed), Self.triesFirstSeatTogether(insertValues) {
                let entry = FirstSeatBatcher.Entry(
                    new: new, claim: claim, values: insertValues,
                    deadline: started + configuration.connectionWaitTimeout)
                switch await firstSeatBatcher.submit(entry, call: { [self] in await callFirstSeats($0) }) {
                case .created(let record):
                    wakeDispatchers()
                    return .created(record)
                case .notCreated: insertValues.firstSeat = false  // the claim says what stands in the way
                case .runAlone: break  // first try included
                case .lost:
                    // Counted from now: the time it waited for the shared call leaves the look-up its whole bound.
                    let outcome = try await outcome(ofLostCall: new, startedAt: .now)
                    wakeDispatchers()  // found: this call's booking, whose notifications are new
                    return outcome
                case .error(let error): throw error
                }
            }
            for _ in 0..<Self.claimAttempts {
                let values = insertValues
                // The verification of the claim statements, the call, and one read after it: the look-up after a
                // cancel, or what stands in the way after a refusal (the verification before that read finds
                // nothing suspect: the first cleared every statement, and the call ran).
                let phase = CallPhase()
                let attempt = try await perform(
                    statements: Self.verificationStatements + 2, whenLost: phase.attemptWhenLost
                ) { [self, logger] connection -> InsertAttempt in
                    let rows: [PostgresRow]
                    // The call stays out until it is known to have stored nothing: a refusal, or an error of its
                    // own that rolled it back. Until then a lost connection makes the outcome unknown: the store
                    // looks for the booking on another connection within its cutoff (a loss the store's watchdog
                    // decides comes past the cutoff, so it is answered as unknown at once).
                    // A call whose preparation failed on this connection before is cleared first, or the
                    // connection is given up (nothing of this booking was sent yet).
                    try await verifyClaimStatements(on: connection)
                    do {
                        phase.send()
                        rows = try await runClaim(InsertCallStatement.self, values, on: connection)
                    } catch  where Self.sqlState(of: error) == Self.cancelledState {
                        // A timeout or cancel that falls due while the procedure commits is raised once the commit
                        // is done: the booking may be stored, and then it is the answer.
                        do {
                            if let record = try await Self.record(bookedWith: new, on: connection, logger: logger) {
                                return .found(Self.outcome(of: new, found: record))
                            }
                        } catch {
                            return .callLost  // the read failed: it runs again on another connection
                        }
                        phase.answered()
                        throw error
                    } catch  where Self.isConnectionFailure(error) {
                        return .callLost
                    } catch  where Self.rerunStates.contains(Self.sqlState(of: error) ?? "") {
                        phase.answered()  // the violation or the deadlock rolled the call back
                        return .conflicted
                    } catch {
                        phase.answered()
                        throw error
                    }
                    // An answer it cannot read: the look-up says what became of the booking.
                    guard let row = rows.first else { return .callLost }
                    let created: Bool?
                    do {
                        created = try row.makeRandomAccess()["created"].decode(Bool?.self)
                    } catch {
                        return .callLost
                    }
                    if let created {
                        guard let record = try? Self.record(row) else { return .callLost }
                        return .answered(created ? .created(record) : .existing(record))
                    }
                    // Refused, so nothing was stored: what stands in the way now, on the same connection, outside
                    // any transaction.
                    phase.answered()
                    try await verifyClaimStatements(on: connection)
                    return claim.refusal(given: try await claimFacts(values, on: connection)).map { .refused($0) }
                        ?? .refusedByNothing
                }
                switch attempt {
                case .answered(let outcome):
                    if case .created = outcome { wakeDispatchers() }
                    return outcome
                case .refused(let refusal): throw refusal
                case .refusedByNothing:
                    lastConflicted = false
                    continue  // refused, yet nothing stands in the way any more
                case .conflicted:
                    insertValues.firstSeat = false  // the claim says what stands in the way now
                    lastConflicted = true
                    continue
                case .found(let outcome):
                    wakeDispatchers()  // this call's booking, whose notifications are new
                    return outcome
                case .callLost:
                    let outcome = try await outcome(ofLostCall: new, startedAt: started)
                    wakeDispatchers()  // found: this call's booking, whose notifications are new
                    return outcome
                }
            }
            // Every call met another taker or was refused by nothing: what stands in the way now says which.
            if lastConflicted { throw try await refusalAfterConflicts(claim, insertValues) }
            throw BookingError.slotUnavailable
        } catch  where error.code != .storeUnavailable && error.code != .invalidInput {
            // A refusal seen before the key's lock (a booking under limits checks first), or a lost race for the
            // unique index, may belong to a retry whose original (same key) is still in flight: wait for it on the
            // key's lock, then a replay wins.
            if let key = new.idempotencyKey, let existing = try await recordAfterKeyLock(key) {
                return .existing(existing)
            }
            throw error
        }
    }

    /// The claim of booking `new` and the values of its call: its locks (the key's, the resource's shared, each
    /// limited day's and week's, then the slot's), its appointment and reminders, and the first try asked for (the
    /// procedure makes it only for a booking that uses no hold and counts no limits).
    static func insertClaim(_ new: NewAppointment) -> (claim: SlotClaim, values: ClaimValues) {
        let claim = SlotClaim(
            resource: new.resource, slot: new.slot, occupied: new.occupied, now: new.now, rules: new.rules,
            customerEmail: new.customerEmail, holdTokenHash: new.holdTokenHash, idempotencyKey: new.idempotencyKey)
        let locks = claim.locks(first: new.idempotencyKey.map(Self.idempotencyLockName), resourceShared: true)
        var values = claim.values
        values.lockNames = locks.map(\.name)
        values.lockShared = locks.map(\.shared)
        values.slotLock = claim.slotLock
        values.customerName = new.customerName
        values.note = new.note
        values.cancelTokenHash = new.cancelTokenHash
        values.requestFingerprint = new.requestFingerprint
        values.sealedCancelToken = new.sealedCancelToken
        (values.reminderLeads, values.reminderDues) = Self.reminderArrays(new.reminders)
        values.firstSeat = true
        return (claim, values)
    }

    /// The answer to a booking whose every call met another taker at an index, the exclusion constraint or a
    /// deadlock: the refusal that what stands in the way now makes, a replay's `slotUnavailable` (which the key's
    /// look-up in ``insert(_:)`` answers), or `storeUnavailable` when nothing stands in the way any more.
    private func refusalAfterConflicts(_ claim: SlotClaim, _ values: ClaimValues) async throws(BookingError)
        -> BookingError
    {
        let facts = try await perform(statements: Self.verificationStatements + 1) { [self] connection in
            try await verifyClaimStatements(on: connection)
            return try await claimFacts(values, on: connection)
        }
        if facts.replay { return .slotUnavailable }
        return claim.refusal(given: facts)
            ?? .storeUnavailable("the database kept meeting conflicting transactions")
    }

    /// SQLSTATE 57014, `query_canceled`: a statement timeout or a cancel request.
    static let cancelledState = "57014"

    /// The errors after which a booking's call runs again through the claim: 23505 (`unique_violation`) and 23P01
    /// (`exclusion_violation`), where another taker won a seat, a key or an overlapping slot first, and 40P01
    /// (`deadlock_detected`), two takers not yet committed waiting for each other there. Each rolled the call
    /// back whole.
    static let rerunStates: Set<String> = ["23505", "23P01", "40P01"]

    /// The appointment booked with idempotency key `key`, read once every transaction holding the key's lock
    /// (the one ``insert(_:)`` takes first) has finished: a statement after the lock sees what they committed.
    private func recordAfterKeyLock(_ key: String) async throws(BookingError) -> AppointmentRecord? {
        let lockName = Self.idempotencyLockName(key)
        return try await performTransaction { [logger] connection in
            try await Self.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(\(lockName), 0))", on: connection, logger: logger)
            return try await Self.records(
                connection.query(
                    "SELECT \(unescaped: Self.appointmentColumns) FROM appointments WHERE idempotency_key = \(key)",
                    logger: logger)
            ).first
        }
    }

    /// The name of the advisory lock that bookings with one idempotency key take first, so retries queue there.
    static func idempotencyLockName(_ key: String) -> String { "idempotency/" + key }

    /// The name of the transaction-scoped advisory lock that bookings and moves into the slot starting
    /// at `start` take last, so the seats of one slot are taken one at a time.
    static func slotLockName(_ resource: ResourceID, _ start: Date) -> String {
        "slot/\(resource.rawValue)/\(start.millisecondsSince1970)"
    }

    /// Cancels: the sequence up by one, the `cancelled` notification with it, and the pending reminders
    /// obsolete; idempotent (the row lock makes a concurrent cancel find it cancelled).
    ///
    /// The row is locked first, in a statement of its own: the cancel's statement then takes its snapshot
    /// after any move that held the row has committed, so it also sees (and makes obsolete) the reminders
    /// that move wrote.
    public func cancel(id: Int64, now: Date) async throws(BookingError) -> CancelOutcome? {
        let at = PostgresInstant(now)
        let cancelled = try await perform(statements: 4) { [logger] connection in
            try await Self.transaction(
                "SELECT id FROM appointments WHERE id = \(id) FOR UPDATE",
                """
                WITH cancelled AS (
                    UPDATE appointments
                    SET status = 'cancelled', cancelled_at = \(at), updated_at = \(at), sequence = sequence + 1
                    WHERE id = \(id) AND status = 'booked'
                    RETURNING \(unescaped: Self.appointmentColumns)
                ), notification AS (
                    INSERT INTO notifications (appointment_id, kind, sequence, status, attempts, next_attempt_at,
                        created_at, updated_at)
                    SELECT id, 'cancelled', sequence, 'pending', 0, \(at), \(at), \(at) FROM cancelled
                ), obsolete AS (
                    UPDATE notifications
                    SET status = 'obsolete', lease_owner = NULL, lease_expires_at = NULL, updated_at = \(at)
                    WHERE appointment_id IN (SELECT id FROM cancelled) AND kind = 'reminder' AND status = 'pending'
                )
                SELECT \(unescaped: Self.appointmentColumns) FROM cancelled
                """, on: connection, logger: logger
            ).first.map(Self.record)?.appointment
        }
        if let cancelled {
            wakeDispatchers()
            return .cancelled(cancelled)
        }
        // Already cancelled (or unknown): a new statement sees the latest committed version.
        return try await record(id: id).map { .alreadyCancelled($0.appointment) }
    }

    /// The appointment with that id.
    public func record(id: Int64) async throws(BookingError) -> AppointmentRecord? {
        try await perform { [logger] connection in
            try await Self.records(
                connection.query(
                    "SELECT \(unescaped: Self.appointmentColumns) FROM appointments WHERE id = \(id)", logger: logger)
            ).first
        }
    }

    /// The appointment booked with that idempotency key.
    public func record(idempotencyKey: String) async throws(BookingError) -> AppointmentRecord? {
        try await perform { [logger] connection in
            try await Self.records(
                connection.query(
                    "SELECT \(unescaped: Self.appointmentColumns) FROM appointments WHERE idempotency_key = \(idempotencyKey)",
                    logger: logger)
            ).first
        }
    }

    /// Every appointment, ordered by slot start, then id.
    public func appointments() async throws(BookingError) -> [Appointment] {
        try await perform { [logger] connection in
            try await Self.records(
                connection.query(
                    "SELECT \(unescaped: Self.appointmentColumns) FROM appointments ORDER BY slot_start, id",
                    logger: logger)
            ).map(\.appointment)
        }
    }

    /// The appointments of `resource` whose slot starts at or after `instant`, ordered by slot start, then id: a range
    /// of the slot-start index.
    public func appointments(of resource: ResourceID, startingFrom instant: Date) async throws(BookingError)
        -> [Appointment]
    {
        try await perform { [logger] connection in
            try await Self.records(
                connection.query(
                    """
                    SELECT \(unescaped: Self.appointmentColumns) FROM appointments
                    WHERE slot_start >= \(PostgresInstant(instant)) AND resource = \(resource.rawValue)
                    ORDER BY slot_start, id
                    """,
                    logger: logger)
            ).map(\.appointment)
        }
    }

    /// Leases due notifications in one statement with `FOR UPDATE SKIP LOCKED`, counting an attempt on each.
    ///
    /// The statement runs in its own implicit transaction, one round trip (see `dispatcherStatement(_:on:logger:)`).
    public func claimNotifications(_ claim: NotificationClaim) async throws(BookingError) -> [BookingNotification] {
        try await perform { [logger] connection in
            try await Self.dispatcherStatement(Self.claimStatement(claim), on: connection, logger: logger)
                .map(Self.notification).sorted(by: NotificationClaim.dueOrder)
        }
    }

    /// Leases as ``claimNotifications(_:)`` does and reads the leased notifications' appointments in the same
    /// statement (the claim's `UPDATE` in a `WITH`, joined to `appointments`): one round trip for the batch.
    /// An appointment row that cannot be read leaves that appointment `nil` (the dispatcher reads it itself).
    public func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
        -> [ClaimedNotification]
    {
        let claimed = Self.claimStatement(claim)
        // Each appointment read by its key in a `LATERAL` subquery the planner keeps apart (`LIMIT 1`): a join's
        // generic plan hashed the whole table when it expected a large claim (see `claimStatement(_:)`).
        let query = PostgresQuery(
            unsafeSQL: """
                WITH claimed AS (\(claimed.sql))
                SELECT claimed.*, appointment.*
                FROM claimed LEFT JOIN LATERAL (
                    SELECT \(Self.prefixedAppointmentColumns) FROM appointments AS a
                    WHERE a.id = claimed.appointment_id LIMIT 1
                ) AS appointment ON true
                """, binds: claimed.binds)
        return try await perform { [logger] connection in
            try await Self.dispatcherStatement(query, on: connection, logger: logger).map { row in
                let appointment: AppointmentRecord?
                do {
                    appointment = try Self.record(row, prefix: Self.appointmentPrefix)
                } catch {
                    logger.debug(
                        "a claimed notification's appointment could not be read",
                        metadata: ["error": "\(String(reflecting: type(of: error)))"])
                    appointment = nil
                }
                return ClaimedNotification(notification: try Self.notification(row), appointment: appointment)
            }
            .sorted { NotificationClaim.dueOrder($0.notification, $1.notification) }
        }
    }

    /// The claim's statement: leases the due notifications and counts an attempt on each, oldest due first;
    /// returns them (in no particular order).
    ///
    /// The due rows are locked in an `ARRAY(...)` (`FOR UPDATE SKIP LOCKED`, so dispatchers never wait for one
    /// another) and updated by primary key: whatever the `LIMIT` parameter, the plan looks up the rows it claims.
    /// The connections plan every statement generically (`plan_cache_mode`), and the generic plan of the semi-join
    /// this replaced (`id IN (SELECT ...)`) estimated a tenth of the table for the `LIMIT`: with a backlog of
    /// pending notifications it read the table whole at every claim. It stays an unnamed statement, planned at each
    /// run with the table's size of the moment: a prepared one, planned once per connection while the table was
    /// small, kept a sequential scan as the table grew, until the next `ANALYZE`.
    private static func claimStatement(_ claim: NotificationClaim) -> PostgresQuery {
        let now = PostgresInstant(claim.now)
        return """
            UPDATE notifications
            SET lease_owner = \(claim.owner), lease_expires_at = \(PostgresInstant(claim.leaseExpiresAt)),
                attempts = attempts + 1, updated_at = \(now)
            WHERE id = ANY(ARRAY(
                SELECT id FROM notifications
                WHERE status = 'pending' AND next_attempt_at <= \(now)
                    AND (lease_expires_at IS NULL OR lease_expires_at <= \(now))
                ORDER BY next_attempt_at, id
                LIMIT \(max(0, claim.limit))
                FOR UPDATE SKIP LOCKED))
            RETURNING \(unescaped: Self.notificationColumns)
            """
    }

    /// Records an outcome only while `owner` holds the lease of a pending notification: the statement of
    /// ``finish(outcomes:owner:)`` for one notification.
    public func finish(notification id: Int64, owner: String, outcome: DeliveryOutcome) async throws(BookingError)
        -> Bool
    {
        try await finish(outcomes: [id: outcome], owner: owner).contains(id)
    }

    /// Records the outcomes in one statement, in its own implicit transaction (one round trip, see
    /// `dispatcherStatement(_:on:logger:)`): the outcomes travel as arrays that `unnest` pairs up again, and
    /// each notification changes only while it is pending and leased to `owner`.
    public func finish(outcomes: [Int64: DeliveryOutcome], owner: String) async throws(BookingError) -> Set<Int64> {
        guard !outcomes.isEmpty else { return [] }
        var ids: [Int64] = []
        var kinds: [String] = []
        var errors: [String] = []
        var times: [PostgresInstant] = []
        var nextAttempts: [PostgresInstant] = []
        for (id, outcome) in outcomes {
            let (kind, error, time, nextAttempt): (String, String, Date, Date) =
                switch outcome {
                case .sent(let at): ("sent", "", at, at)
                case .retry(let error, let next, let now): ("retry", error, now, next)
                case .failed(let error, let now): ("failed", error, now, now)
                case .released(let now): ("released", "", now, now)
                case .obsolete(let now): ("obsolete", "", now, now)
                }
            ids.append(id)
            kinds.append(kind)
            errors.append(error)
            times.append(PostgresInstant(time))
            nextAttempts.append(PostgresInstant(nextAttempt))
        }
        let query: PostgresQuery = """
            UPDATE notifications AS n
            SET status = CASE WHEN o.kind IN ('sent', 'failed', 'obsolete') THEN o.kind ELSE n.status END,
                sent_at = CASE WHEN o.kind = 'sent' THEN o.at ELSE n.sent_at END,
                error = CASE WHEN o.kind IN ('retry', 'failed') THEN o.error ELSE n.error END,
                next_attempt_at = CASE WHEN o.kind = 'retry' THEN o.next_attempt_at ELSE n.next_attempt_at END,
                attempts = CASE WHEN o.kind IN ('released', 'obsolete') THEN GREATEST(n.attempts - 1, 0)
                    ELSE n.attempts END,
                updated_at = o.at, lease_owner = NULL, lease_expires_at = NULL
            FROM unnest(\(ids)::BIGINT[], \(kinds)::TEXT[], \(errors)::TEXT[], \(times)::TIMESTAMPTZ[],
                \(nextAttempts)::TIMESTAMPTZ[]) AS o(id, kind, error, at, next_attempt_at)
            WHERE n.id = o.id AND n.lease_owner = \(owner) AND n.status = 'pending'
            RETURNING n.id, o.kind
            """
        let recorded = try await perform { [logger] connection in
            try await Self.dispatcherStatement(query, on: connection, logger: logger).map {
                try $0.decode((Int64, String).self)
            }
        }
        if recorded.contains(where: { $0.1 == "released" }) { wakeDispatchers() }
        return Set(recorded.map(\.0))
    }

    /// Moves a failed notification back to pending, due now, with its attempts reset.
    public func retryFailedNotification(id: Int64, now: Date) async throws(BookingError) -> BookingNotification? {
        let at = PostgresInstant(now)
        let retried = try await performTransaction { [logger] connection in
            let retried = try await Self.notifications(
                connection.query(
                    """
                    UPDATE notifications SET status = 'pending', attempts = 0, next_attempt_at = \(at), updated_at = \(at),
                        lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = \(id) AND status = 'failed'
                    RETURNING \(unescaped: Self.notificationColumns)
                    """, logger: logger)
            ).first
            return retried
        }
        if let retried {
            wakeDispatchers()
            return retried
        }
        return try await perform { [logger] connection in
            try await Self.notifications(
                connection.query(
                    "SELECT \(unescaped: Self.notificationColumns) FROM notifications WHERE id = \(id)", logger: logger)
            ).first
        }
    }

    /// Notifications ordered by id.
    public func notifications(appointmentID: Int64?) async throws(BookingError) -> [BookingNotification] {
        try await perform { [logger] connection in
            // Two statements, not `$1 IS NULL OR appointment_id = $1`: the connections plan every statement
            // generically (`plan_cache_mode`), and a generic plan of that condition could not use the index.
            if let appointmentID {
                return try await Self.notifications(
                    connection.query(
                        """
                        SELECT \(unescaped: Self.notificationColumns) FROM notifications
                        WHERE appointment_id = \(appointmentID) ORDER BY id
                        """, logger: logger))
            }
            return try await Self.notifications(
                connection.query(
                    "SELECT \(unescaped: Self.notificationColumns) FROM notifications ORDER BY id", logger: logger))
        }
    }

    /// Runs `SELECT 1`, answering within ``Configuration/healthTimeout`` whatever state the server or
    /// the connection is in (a health check changes nothing, so its late outcome can be dropped).
    public func checkHealth() async throws(BookingError) {
        let timeout = configuration.healthTimeout
        let check = Task { [self] in
            try await perform(waitingAtMost: timeout) { [logger] connection in
                for try await _ in try await connection.query("SELECT 1", logger: logger) {}
            }
        }
        try await Deadline.answer(within: timeout, from: check)
    }

    // MARK: - Helpers

    /// Runs a write in an explicit transaction (``perform(waitingAtMost:unbounded:_:)`` around
    /// `BEGIN` ... `COMMIT`).
    ///
    /// Explicit, because with the extended query protocol a single statement's implicit transaction
    /// commits when the server handles the following Sync, after it already sent the statement's
    /// results, which PostgresNIO hands over at once: a server crash in between would lose a write
    /// that was acknowledged. `COMMIT` completes only once the commit is durable.
    ///
    /// After a failure the transaction is rolled back, unless the connection is already closed (the
    /// server rolls back on disconnect, and a `ROLLBACK` written to a closed channel is never answered).
    ///
    /// `claims` (a transaction that takes a slot) first makes sure, outside the transaction, that no claim
    /// statement the connection keeps has a failed preparation (``verifyClaimStatements(on:)``).
    func performTransaction<T: Sendable>(
        unbounded: Bool = false, claims: Bool = false,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(BookingError) -> T {
        // A claim runs more statements than other operations (its checks, waits for the slot's taker, retries
        // of its statement), each bounded by the server: its connection may be held for as many of them.
        // At most: each wait for the slot's taker (a check and the wait), each refused check and each refused
        // statement with its facts, the check that locks, `BEGIN` and `COMMIT` or `ROLLBACK`, a move's three
        // reads, and the verification of every claim statement before `BEGIN`.
        let statements =
            claims
            ? 2 * Self.slotLockTries + 4 * Self.claimAttempts + 1 + 2 + 3 + Self.verificationStatements : 3
        return try await perform(unbounded: unbounded, statements: statements) { [self, logger] connection in
            if claims { try await verifyClaimStatements(on: connection) }
            // Every check of a claim relies on a statement's snapshot following the locks taken before it:
            // READ COMMITTED, whatever the database's or role's default isolation.
            try await Self.execute("BEGIN ISOLATION LEVEL READ COMMITTED", on: connection, logger: logger)
            do {
                let value = try await body(connection)
                try await Self.execute("COMMIT", on: connection, logger: logger)
                return value
            } catch {
                if !connection.isClosed { try? await Self.execute("ROLLBACK", on: connection, logger: logger) }
                throw error
            }
        }
    }

    /// Runs a statement and reads its whole answer, so an error the server reports after the first
    /// row (a lock timeout, say) is thrown here instead of being lost with an unread row sequence.
    static func execute(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws {
        for try await _ in try await connection.query(query, logger: logger) {}
    }

    /// Runs `queries` in one explicit transaction: `BEGIN`, the queries and `COMMIT` are queued on `connection`
    /// together (PostgresNIO writes each as soon as the one before is answered, and each query takes its
    /// snapshot when it starts), so the caller waits once, and the answer is the `COMMIT`'s (see
    /// ``performTransaction(unbounded:claims:_:)`` for why a write needs one). After a failed query, the
    /// `COMMIT` rolls the transaction back. Returns the rows of the last query, read once the `COMMIT` is
    /// queued: the caller's own checks of them can no longer undo the transaction, so each query must refuse
    /// on the server whatever must not commit.
    static func transaction(_ queries: PostgresQuery..., on connection: PostgresConnection, logger: Logger)
        async throws -> [PostgresRow]
    {
        let begin: EventLoopFuture<PostgresQueryResult> = connection.query(
            "BEGIN ISOLATION LEVEL READ COMMITTED", logger: logger)
        let statements: [EventLoopFuture<PostgresQueryResult>] = queries.map { connection.query($0, logger: logger) }
        let commit: EventLoopFuture<PostgresQueryResult> = connection.query("COMMIT", logger: logger)
        var rows: [PostgresRow] = []
        do {
            _ = try await begin.get()
            for statement in statements { rows = try await statement.get().rows }
        } catch {
            // Every query still queued fails once the transaction is aborted; the `COMMIT` rolls it back.
            for statement in statements { _ = try? await statement.get() }
            _ = try? await commit.get()
            throw error
        }
        // A transaction that ended without an error seen here (none should) reports `ROLLBACK`: no success.
        guard try await commit.get().metadata.command == "COMMIT" else {
            throw BookingError.storeUnavailable("the database rolled the transaction back")
        }
        return rows
    }

    /// Runs one statement of the dispatcher's bookkeeping (a claim, an outcome) in its own implicit transaction,
    /// one round trip instead of the three of ``transaction(_:on:logger:)``, and returns its rows.
    ///
    /// PostgresNIO hands over a single statement's rows without reporting an error raised when its implicit
    /// transaction commits (see ``performTransaction(unbounded:claims:_:)``). This schema has no deferred
    /// constraint and the connection's transactions are READ COMMITTED, so only a cancel or statement timeout
    /// falling due between the statement's end and its commit can do that; then the claim or outcome reported
    /// is not stored, and the notification is claimed and sent again once its lease ends, which at-least-once
    /// delivery allows. A booking, a cancel or a move never runs this way.
    static func dispatcherStatement(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger)
        async throws -> [PostgresRow]
    {
        try await connection.query(query, logger: logger).collect()
    }

    /// Deadlocks and serialization failures: the transaction rolled back whole and is safe to repeat.
    static let retriedStates: Set<String> = ["40P01", "40001"]
    /// How many times an operation runs at most when it meets one of ``retriedStates``.
    static let maximumAttempts = 4

    /// Runs `body` on a pooled connection and maps every error to a `BookingError`.
    ///
    /// Waiting for the connection is bounded here (`waitingAtMost`, by default
    /// ``Configuration/connectionWaitTimeout``): the wait is abandoned without touching the database.
    /// Once the connection is held, the body runs to its end, bounded by the server's
    /// `statement_timeout` and `lock_timeout`, and its outcome is the answer: a transaction that ran
    /// is never reported as failed while it committed. Deadlocks and serialization failures are
    /// retried up to ``maximumAttempts`` times in all.
    ///
    /// From the end of the wait on (the store's ``ConnectionWatchdog`` checks every 100 ms), a held connection seen
    /// closed for half a second is lost, and so is one an operation still holds ``Configuration/statementTimeout`` ×
    /// `statements` (3 unless said) + 2 s after the wait's end (each of its statements and its `COMMIT` is
    /// bounded by the server long before): the connection is closed, so nothing more is written on
    /// it, and the operation fails with `storeUnavailable`; every request is answered. `unbounded`
    /// lifts the time limit (not the closed-connection check) for work the server does not bound
    /// either (migrations). A connection the pool hands over already closed is replaced at once. `whenLost` may
    /// give the answer instead of that failure (it is asked once the loss is decided), for an operation that
    /// finds out what became of it.
    func perform<T: Sendable>(
        waitingAtMost wait: Duration? = nil, unbounded: Bool = false, statements: Int = 3,
        whenLost: @escaping @Sendable () -> T? = { nil },
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(BookingError) -> T {
        let wait = wait ?? configuration.connectionWaitTimeout
        let hold: Duration? = unbounded ? nil : configuration.statementTimeout * statements + .seconds(2)
        var attempt = 1
        while true {
            do {
                return try await ConnectionLease.run(
                    on: client, after: poolStart, watchedBy: connectionWatchdog, waitingAtMost: wait,
                    holdingAtMost: hold, body)
            } catch {
                if error is ConnectionLease.ConnectionLost, let answer = whenLost() { return answer }
                if attempt < Self.maximumAttempts, error is ConnectionLease.StaleConnection {
                    attempt += 1  // nothing a second run would not repeat harmlessly: run again elsewhere
                    continue
                }
                if attempt < Self.maximumAttempts, let state = Self.sqlState(of: error),
                    Self.retriedStates.contains(state)
                {
                    logger.debug(
                        "retrying after a transient conflict",
                        metadata: ["sqlstate": "\(state)", "attempt": "\(attempt)"])
                    try? await Task.sleep(for: .milliseconds(Int.random(in: 1...20) * attempt))
                    attempt += 1
                    continue
                }
                if error is ConnectionLease.WaitTimedOut { explainUnreachable() }
                throw Self.map(error)
            }
        }
    }

    /// Logs why the database is not reached, from one connection opened directly (``ConnectionProbe``), at most once
    /// per ``unreachableExplanationInterval``; never while `migrate()` runs (its error says it) nor before the store
    /// runs (the wait was for ``run()``). In a task of its own, bounded by twice the connect timeout: the operation
    /// that found no connection answers at once.
    func explainUnreachable() {
        guard poolStart.isOpen, migrations.load(ordering: .relaxed) == 0 else { return }
        let now = ContinuousClock.now
        let due = lastUnreachableExplanation.withLock { last in
            if let last, now - last < Self.unreachableExplanationInterval { return false }
            last = now
            return true
        }
        guard due else { return }
        Task { [configuration, logger] in
            guard let cause = await ConnectionProbe.failure(of: configuration, logger: logger) else { return }
            logger.warning("the database is out of reach", metadata: ["cause": "\(cause)"])
        }
    }

    /// How ``map(_:)`` words a database not reached at all: what ``ConnectionProbe`` can explain. A refusal the server
    /// stated (a newer schema, a SQLSTATE) keeps its own words.
    enum Unreachable {
        /// No pooled connection within the wait (followed by the wait).
        static let noConnection = "no database connection within"
        /// The pool handed over only connections already closed.
        static let allClosed = "the database closed every connection offered"
        /// A failure below PostgreSQL's protocol.
        static let unreachable = "the database is unreachable"
        /// A connection that failed without a SQLSTATE.
        static let connectionFailed = "the database connection failed"
        /// All of them.
        static let phrases = [noConnection, allClosed, unreachable, connectionFailed]
    }

    /// Whether `error` says the database was not reached at all (see ``Unreachable``).
    static func isUnreachable(_ error: BookingError) -> Bool {
        error.code == .storeUnavailable && Unreachable.phrases.contains { error.message.contains($0) }
    }

    /// The SQLSTATE behind `error`, if the server sent one.
    static func sqlState(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// Exclusion and unique violations become `slotUnavailable`; check violations, and text the
    /// database cannot store (a NUL character, or one the server's encoding lacks), `invalidInput`;
    /// everything else `storeUnavailable` with the SQLSTATE only (never SQL or values).
    static func map(_ error: any Error) -> BookingError {
        if let error = error as? BookingError { return error }
        if let timedOut = error as? ConnectionLease.WaitTimedOut {
            // In tenths of a second, rounded: the wait left of a deadline reads 1.999935459 seconds.
            let (seconds, attoseconds) = max(timedOut.wait, .zero).components
            let tenths = seconds * 10 + (attoseconds + 50_000_000_000_000_000) / 100_000_000_000_000_000
            return .storeUnavailable("\(Unreachable.noConnection) \(tenths / 10).\(tenths % 10) seconds")
        }
        if error is ConnectionLease.ConnectionLost {
            return .storeUnavailable("the database connection was lost during the operation")
        }
        if error is ConnectionLease.StaleConnection {
            return .storeUnavailable(Unreachable.allClosed)
        }
        guard let psql = error as? PSQLError else {
            return .storeUnavailable(
                error is CancellationError ? "the operation was cancelled" : Unreachable.unreachable)
        }
        guard let state = psql.serverInfo?[.sqlState] else {
            return .storeUnavailable(Unreachable.connectionFailed)
        }
        switch state {
        case "23P01", "23505": return .slotUnavailable
        case "23514", "23502", "22001": return .invalidInput(field: "appointment", "violates a rule of the schema")
        case "22021", "22P05":  // character_not_in_repertoire, untranslatable_character
            return .invalidInput(field: "appointment", "contains characters the database cannot store")
        case cancelledState: return .storeUnavailable("the database did not finish the statement in time")
        case "55P03": return .storeUnavailable("the database did not grant a lock in time")
        case "40P01", "40001": return .storeUnavailable("the database kept meeting conflicting transactions")
        default: return .storeUnavailable("database error \(state)")
        }
    }
}

extension ClaimSQL {
    /// The booking's statement (the last of ``InsertProcedure``): the check under the locks, the lapsed holds in
    /// the way and the used hold deleted, the appointment (on the lowest free seat of its slot) and its
    /// notifications inserted, all only when the check passes; the appointment, the existing one of a replay, or
    /// no row when the check refused.
    static let insert: ClaimSQL = """
        WITH \(guardExpressions), lapsed AS (
            \(lapsedHoldsInTheWay)
        ), used AS (
            DELETE FROM slot_holds
            WHERE token_hash IN (SELECT token_hash FROM claim_hold) AND (SELECT ok FROM claim_guard)
            RETURNING token_hash
        ), inserted AS (
            INSERT INTO appointments (\(appointmentInsertColumns))
            SELECT \(appointmentInsertValues), \(freeSeat)
            WHERE (SELECT ok FROM claim_guard)
                -- The hold must still be there to be used: a release that committed first wins.
                AND (\(.holdTokenHash)::TEXT IS NULL OR EXISTS (SELECT 1 FROM used))
            RETURNING \(unescaped: PostgresStore.appointmentColumns)
        ), \(notificationsOfInserted)
        SELECT \(unescaped: PostgresStore.appointmentColumns), TRUE AS created FROM inserted
        UNION ALL
        -- A replay: the appointment of the key (committed before the key's lock was granted).
        SELECT \(unescaped: PostgresStore.appointmentColumns), FALSE FROM appointments
        WHERE idempotency_key = \(.idempotencyKey) AND NOT EXISTS (SELECT 1 FROM inserted)
        """

    /// The first try of ``InsertProcedure``, under the key's and the resource's locks and the slot's shared (no
    /// guard): the appointment on seat 0 and its notifications, only when the slot has no booked appointment and
    /// no live hold overlaps it, and the database refuses it nothing; the appointment, or no row.
    ///
    /// Takers through the claim (bookings and moves) hold the slot's lock alone, and a hold the resource's, so
    /// neither runs beside this try. What the shared lock does not serialise, the database refuses, and
    /// `ON CONFLICT DO NOTHING` turns each refusal into no row, so the procedure goes on to the claim in the same
    /// call: another first try of the slot wants seat 0 too and meets this one at the seat index; a booking of an
    /// overlapping slot (another start, another lock) meets it at the exclusion constraint; a replay meets it at
    /// the key's unique index. A row not yet committed in the way is waited for first, as any insert waits.
    ///
    /// The booked appointments of other slots are left to the exclusion constraint, whose own index answers it:
    /// a probe for them (schema 9) was planned from the statistics of the session's first calls, and on a table
    /// that had been nearly empty then, the planner could read the seat index for the resource alone, every
    /// booking of the resource at each call. The probe of this slot, ``bookedInSlot``, is an equality on the seat
    /// index's first two columns.
    static let firstSeatInsert: ClaimSQL = """
        WITH inserted AS (
            INSERT INTO appointments (\(appointmentInsertColumns))
            SELECT \(appointmentInsertValues), 0
            WHERE NOT EXISTS (SELECT 1 FROM \(bookedInSlot))
                AND NOT EXISTS (
                    SELECT 1 FROM slot_holds
                    WHERE resource = \(.resource) AND expires_at > \(.now) AND \(overlapsOccupied))
            ON CONFLICT DO NOTHING
            RETURNING \(unescaped: PostgresStore.appointmentColumns)
        ), \(notificationsOfInserted)
        SELECT \(unescaped: PostgresStore.appointmentColumns), TRUE AS created FROM inserted
        """

    /// The columns a booking writes, in the order of ``appointmentInsertValues`` followed by the seat.
    static let appointmentInsertColumns: ClaimSQL = """
        resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note, status,
                cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, sealed_cancel_token, seat
        """

    /// The values of a new booked appointment, but its seat.
    static let appointmentInsertValues: ClaimSQL = """
        \(.resource), \(.slotStart), \(.slotEnd), \(.occupiedStart), \(.occupiedEnd), \(.customerName),
                \(.customerEmail), \(.note), 'booked', \(.cancelTokenHash), \(.idempotencyKey), \(.requestFingerprint),
                \(.now), \(.now), \(.sealedCancelToken)
        """

    /// The common table expression `notifications`: the `booked` notification of the appointment in `inserted`
    /// and its reminders, in one `INSERT`, so the booked one takes the first id and the reminders follow in order.
    private static let notificationsOfInserted: ClaimSQL = """
        notifications AS (
            INSERT INTO notifications (appointment_id, kind, reminder_lead_seconds, status, attempts,
                next_attempt_at, created_at, updated_at)
            SELECT inserted.id, event.kind, event.lead_seconds, 'pending', 0, event.due_at, \(.now), \(.now)
            FROM inserted, (
                SELECT 0::BIGINT AS position, 'booked' AS kind, 0::BIGINT AS lead_seconds, \(.now) AS due_at
                UNION ALL
                SELECT reminder.position, 'reminder', reminder.lead_seconds, reminder.due_at
                FROM unnest(\(.reminderLeads)::BIGINT[], \(.reminderDues)::TIMESTAMPTZ[])
                    WITH ORDINALITY AS reminder(lead_seconds, due_at, position)
            ) AS event
            ORDER BY event.position
        )
        """
}
