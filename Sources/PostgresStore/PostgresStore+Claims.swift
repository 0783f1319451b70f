import BookingDomain
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// What a booking, a move or a hold asks of a slot: the inputs of the check that decides whether it can be
/// taken (invariant 12 of `BookingStore`), at millisecond precision as the database stores them.
struct SlotClaim: Sendable {
    var resource: ResourceID
    var slot: TimeSlot
    var occupied: TimeSlot
    var now: Date
    var rules: BookingRules
    /// The customer email of a booking or of the moved appointment (a customer takes one seat of a slot);
    /// `nil` for holds.
    var customerEmail: String?
    /// The appointment being moved, counted nowhere; `nil` for bookings and holds.
    var movingID: Int64?
    /// The hold a booking uses, counted nowhere and deleted with the booking; `nil` for none.
    var holdTokenHash: String?
    /// A booking's idempotency key: when an appointment has it, the booking is a replay and takes nothing.
    var idempotencyKey: String?

    init(
        resource: ResourceID, slot: TimeSlot, occupied: TimeSlot, now: Date, rules: BookingRules,
        customerEmail: String? = nil, movingID: Int64? = nil, holdTokenHash: String? = nil,
        idempotencyKey: String? = nil
    ) {
        self.resource = resource
        self.slot = Self.milliseconds(slot)
        self.occupied = Self.milliseconds(occupied)
        self.now = now.roundedToMilliseconds
        self.rules = rules
        self.customerEmail = customerEmail
        self.movingID = movingID
        self.holdTokenHash = holdTokenHash
        self.idempotencyKey = idempotencyKey
    }

    /// The slot as the database stores it: both bounds at whole milliseconds, as `PostgresInstant` reads them.
    private static func milliseconds(_ slot: TimeSlot) -> TimeSlot {
        // Rounding moves each bound by less than a millisecond; a slot validated as non-empty whose bounds round
        // together would make `init` throw, and then the slot is kept as given (the database refuses it).
        (try? TimeSlot(start: slot.start.roundedToMilliseconds, end: slot.end.roundedToMilliseconds)) ?? slot
    }

    // MARK: - Locks

    /// The transaction-scoped advisory locks that serialise the takers this claim competes with, in the one
    /// order every taker uses: `first` (an idempotency key), the resource's lock (shared for bookings and moves,
    /// which stay parallel among themselves; exclusive for a hold, which no constraint can check against a
    /// booking of a different, overlapping slot), each day limit's then each week limit's; bookings and moves
    /// take ``slotLock`` last.
    func locks(first: String? = nil, resourceShared: Bool) -> [PostgresStore.AdvisoryLock] {
        var locks: [PostgresStore.AdvisoryLock] = []
        if let first { locks.append(.init(name: first, shared: false)) }
        locks.append(.init(name: "resource/\(resource.rawValue)", shared: resourceShared))
        for kind in [PeriodLimit.Kind.day, .week] {
            let starts = Set(rules.periodLimits.filter { $0.kind == kind }.map(\.period.start.millisecondsSince1970))
            for start in starts.sorted() {
                locks.append(.init(name: "\(kind.rawValue)/\(resource.rawValue)/\(start)", shared: false))
            }
        }
        return locks
    }

    /// The lock of the slot's seats, which bookings and moves take last (exclusively), so the seats of one slot
    /// are taken one at a time.
    var slotLock: String { PostgresStore.slotLockName(resource, slot.start) }

    // MARK: - Values and refusal

    /// The values of the claim's parameters (``ClaimSQL/guardExpressions`` and the facts), with no locks.
    var values: ClaimValues {
        var values = ClaimValues()
        values.resource = resource.rawValue
        values.slotStart = PostgresInstant(slot.start)
        values.slotEnd = PostgresInstant(slot.end)
        values.occupiedStart = PostgresInstant(occupied.start)
        values.occupiedEnd = PostgresInstant(occupied.end)
        values.now = PostgresInstant(now)
        values.capacity = Int64(rules.capacity)
        values.periodStarts = rules.periodLimits.map { PostgresInstant($0.period.start) }
        values.periodEnds = rules.periodLimits.map { PostgresInstant($0.period.end) }
        values.periodLimits = rules.periodLimits.map { Int64($0.limit) }
        values.customerEmail = customerEmail
        values.movingID = movingID
        values.holdTokenHash = holdTokenHash
        values.idempotencyKey = idempotencyKey
        return values
    }

    /// Why the claim cannot be taken, given the facts read after its statement refused: in the order of the in-memory
    /// store, a used hold that is not live (`holdExpired`) or is of another slot (`invalidInput`, field
    /// `holdToken`), then what `BookingRules/refusal(slot:occupied:occupants:periodCounts:emailTaken:)` says.
    ///
    /// `nil` for a replay (answered under the locks) and when nothing stands in the way.
    func refusal(given facts: ClaimFacts) -> BookingError? {
        if facts.replay { return nil }
        if holdTokenHash != nil {
            guard let hold = facts.hold, hold.expiresAt > now else { return .holdExpired }
            guard hold.resource == resource.rawValue, hold.slot == slot else {
                return .invalidInput(field: "holdToken", "holds another slot")
            }
        }
        var counts = Array(repeating: PeriodCount(booked: 0), count: rules.periodLimits.count)
        for (position, booked) in facts.periodBookings where counts.indices.contains(position) {
            counts[position].booked = booked
        }
        for (position, expiry) in facts.periodHoldExpiries where counts.indices.contains(position) {
            counts[position].holdExpiries.append(expiry)
        }
        return rules.refusal(
            slot: slot, occupied: occupied, occupants: facts.occupants, periodCounts: counts,
            emailTaken: facts.emailTaken)
    }
}

/// What stands in a refused claim's way, read by ``ClaimFactsStatement`` in a snapshot of its own.
struct ClaimFacts: Sendable {
    var occupants: [SlotOccupant] = []
    var hold: (resource: String, slot: TimeSlot, expiresAt: Date)?
    /// The booked appointments of each limited period, by the (0-based) position of its limit in the rules.
    var periodBookings: [(position: Int, booked: Int)] = []
    /// The expiry of each live hold of each limited period, by the position of its limit.
    var periodHoldExpiries: [(position: Int, expiresAt: Date)] = []
    var emailTaken = false
    var replay = false

    /// Takes in `row`, one fact.
    mutating func read(_ row: PostgresRow) throws {
        let cells = row.makeRandomAccess()
        let fact = try cells["fact"].decode(String.self)
        func slot(_ start: String, _ end: String) throws -> TimeSlot {
            try TimeSlot(
                start: cells[start].decode(PostgresInstant.self).date, end: cells[end].decode(PostgresInstant.self).date
            )
        }
        switch fact {
        case "occupant":
            occupants.append(
                SlotOccupant(
                    slot: try slot("fact_slot_start", "fact_slot_end"),
                    occupied: try slot("fact_occupied_start", "fact_occupied_end"),
                    holdExpiresAt: try cells["fact_expires_at"].decode(PostgresInstant?.self)?.date))
        case "hold":
            hold = (
                try cells["fact_resource"].decode(String.self), try slot("fact_slot_start", "fact_slot_end"),
                try cells["fact_expires_at"].decode(PostgresInstant.self).date
            )
        case "period":
            periodBookings.append(
                (
                    Int(try cells["fact_position"].decode(Int64.self)) - 1,
                    Int(try cells["fact_number"].decode(Int64.self))
                ))
        case "period_hold":
            periodHoldExpiries.append(
                (
                    Int(try cells["fact_position"].decode(Int64.self)) - 1,
                    try cells["fact_expires_at"].decode(PostgresInstant.self).date
                ))
        case "replay":
            replay = true
        case "email":
            emailTaken = true
        default:
            throw BookingError.storeUnavailable("the claim statement returned an unknown fact")
        }
    }
}

extension ClaimSQL {
    /// `tstzrange(occupied_start, occupied_end) && <the claim's occupied interval>`: a GiST index condition.
    static let overlapsOccupied: ClaimSQL = """
        tstzrange(occupied_start, occupied_end, '[)') && tstzrange(\(.occupiedStart), \(.occupiedEnd), '[)')
        """

    /// The booked appointments of the claim's resource, as a condition on a row of `appointments` that the
    /// exclusion constraint's GiST index answers with a condition on the interval (``overlapsOccupied``) or on the
    /// slot's start: the index compares a hash of the resource's name first (schema 12), so a scan stays among the
    /// resource's own entries; the name itself is compared after it.
    static let bookedOfResource: ClaimSQL = """
        hashtextextended(resource, 0) = hashtextextended(\(.resource), 0) AND resource = \(.resource) \
        AND status = 'booked'
        """

    /// The claim's slot, as a condition on a row's `slot_start` and `slot_end`.
    static let sameSlot: ClaimSQL = "slot_start = \(.slotStart) AND slot_end = \(.slotEnd)"

    /// The booked appointments with the claim's slot start, leaving out the moved appointment: rows of the seat
    /// index (`appointments_seats`), for a `FROM`.
    static let bookedInSlot: ClaimSQL = """
        appointments WHERE resource = \(.resource) AND slot_start = \(.slotStart) AND status = 'booked'
            AND id IS DISTINCT FROM \(.movingID)
        """

    /// The lowest seat number that no appointment of ``bookedInSlot`` holds: 0 in an empty slot. With `n` of them
    /// booked, one of the seats `0 ... n` is free. Every writer of a booked row picks its seat so (the first try
    /// of ``InsertProcedure`` only ever seat 0, and only in a slot it sees empty), so two takers of one empty
    /// slot meet at the unique index, whichever locks they hold.
    static let freeSeat: ClaimSQL = """
        (SELECT min(free.seat) FROM generate_series(0, (SELECT count(*) FROM \(bookedInSlot))::INTEGER) AS free(seat)
            WHERE free.seat NOT IN (SELECT seat FROM \(bookedInSlot)))
        """

    /// The periods of the limits, as the rows of `period(starts, ends, most, position)`.
    static let periods: ClaimSQL = """
        unnest(\(.periodStarts)::TIMESTAMPTZ[], \(.periodEnds)::TIMESTAMPTZ[], \(.periodLimits)::BIGINT[])
            WITH ORDINALITY AS period(starts, ends, most, position)
        """

    /// The booked appointments of the resource whose slots start inside `period.starts ..< period.ends` (a row of
    /// ``periods``), leaving out the moved appointment: the exclusion constraint's index reads them by the
    /// resource's hash and the slot's start.
    static let periodBookings: ClaimSQL = """
        (SELECT count(*) FROM appointments
            WHERE \(bookedOfResource) AND id IS DISTINCT FROM \(.movingID)
                AND slot_start >= period.starts AND slot_start < period.ends)
        """

    /// The live holds whose slots start inside `period.starts ..< period.ends`, leaving out the used hold, as a
    /// condition on a row of `slot_holds`.
    static let heldInPeriod: ClaimSQL = """
        resource = \(.resource) AND expires_at > \(.now) AND token_hash IS DISTINCT FROM \(.holdTokenHash)
            AND slot_start >= period.starts AND slot_start < period.ends
        """

    /// The booked appointments and live holds whose slots start inside `period.starts ..< period.ends`, leaving
    /// out the moved appointment and the used hold.
    static let periodCount: ClaimSQL = """
        \(periodBookings) + (SELECT count(*) FROM slot_holds WHERE \(heldInPeriod))
        """

    /// Two common table expressions: `claim_hold`, the used hold when it is live and of this resource and slot,
    /// and `claim_guard`, one row with `replay`, whether an appointment has the booking's idempotency key (a
    /// replay takes nothing), and `ok`, true exactly when it is no replay, the used hold (if any) is in
    /// `claim_hold`, and `BookingRules/refusal(slot:occupied:occupants:periodCounts:emailTaken:)` finds nothing
    /// against the claim in the statement's snapshot: the booked appointments and the live holds overlapping the
    /// claim are each read by one GiST index scan, and each limited period counted.
    ///
    /// A booked appointment of an overlapping slot with another start that the snapshot cannot see yet is the
    /// exclusion constraint's to refuse; everything else (a slot with the same start and another end included,
    /// which shares the slot's lock) is serialised by the locks taken before the statement.
    static let guardExpressions: ClaimSQL = """
        claim_hold AS (
            SELECT token_hash FROM slot_holds
            WHERE token_hash = \(.holdTokenHash) AND expires_at > \(.now) AND resource = \(.resource) AND \(sameSlot)
        ), claim_guard AS (
            SELECT replay, NOT replay AND open AS ok FROM (
                SELECT EXISTS (SELECT 1 FROM appointments WHERE idempotency_key = \(.idempotencyKey)) AS replay,
                    (\(.holdTokenHash)::TEXT IS NULL OR EXISTS (SELECT 1 FROM claim_hold))
                    -- No booked appointment or live hold of a different overlapping slot, not this customer in
                    -- this slot, and a seat left.
                    AND booked.other = 0 AND booked.customer = 0 AND held.other = 0
                    AND booked.seats + held.seats < \(.capacity)
                    -- Room left in every day and week with a limit.
                    AND NOT EXISTS (SELECT 1 FROM \(periods) WHERE \(periodCount) >= period.most) AS open
                FROM (
                    SELECT count(*) FILTER (WHERE \(sameSlot)) AS seats,
                        count(*) FILTER (WHERE NOT (\(sameSlot))) AS other,
                        count(*) FILTER (WHERE \(sameSlot) AND lower(customer_email) = lower(\(.customerEmail)))
                            AS customer
                    FROM appointments
                    WHERE \(bookedOfResource) AND id IS DISTINCT FROM \(.movingID)
                        AND \(overlapsOccupied)
                ) AS booked, (
                    SELECT count(*) FILTER (WHERE \(sameSlot)) AS seats, count(*) FILTER (WHERE NOT (\(sameSlot))) AS other
                    FROM slot_holds
                    WHERE resource = \(.resource) AND expires_at > \(.now) AND token_hash IS DISTINCT FROM \(.holdTokenHash)
                        AND \(overlapsOccupied)
                ) AS held
            ) AS claim
        )
        """

    /// A `DELETE` of the lapsed holds of the resource whose occupied intervals overlap the claim's.
    static let lapsedHoldsInTheWay: ClaimSQL = """
        DELETE FROM slot_holds WHERE resource = \(.resource) AND expires_at <= \(.now) AND \(overlapsOccupied)
        """

    /// What a refusal is made of, read in this statement's own snapshot (taken after the refusing one), one row
    /// per fact: the booked appointments and
    /// live holds in the way (leaving out the moved appointment and the used hold), the used hold, each limited
    /// period's bookings and the expiries of its live holds, whether the customer is in the slot, and whether the
    /// booking is a replay. The columns are those ``ClaimFacts`` reads: `fact` (its kind), `fact_slot_start`,
    /// `fact_slot_end`, `fact_occupied_start`, `fact_occupied_end`, `fact_expires_at`, `fact_resource`,
    /// `fact_position` and `fact_number`.
    ///
    /// A statement of its own, run only after a refusal: as branches of the claim statements, never run on the
    /// way to a booking, they still made up most of the plans the server sets up for every run.
    static let facts: ClaimSQL = """
        SELECT 'occupant' AS fact, slot_start AS fact_slot_start, slot_end AS fact_slot_end,
            occupied_start AS fact_occupied_start, occupied_end AS fact_occupied_end,
            NULL::TIMESTAMPTZ AS fact_expires_at, NULL::TEXT AS fact_resource, 0::BIGINT AS fact_position,
            0::BIGINT AS fact_number
        FROM appointments
        WHERE \(bookedOfResource) AND id IS DISTINCT FROM \(.movingID) AND \(overlapsOccupied)
        UNION ALL
        SELECT 'occupant', slot_start, slot_end, occupied_start, occupied_end, expires_at, NULL, 0, 0
        FROM slot_holds
        WHERE resource = \(.resource) AND expires_at > \(.now) AND token_hash IS DISTINCT FROM \(.holdTokenHash)
            AND \(overlapsOccupied)
        UNION ALL
        SELECT 'hold', slot_start, slot_end, occupied_start, occupied_end, expires_at, resource, 0, 0
        FROM slot_holds WHERE token_hash = \(.holdTokenHash)
        UNION ALL
        SELECT 'period', NULL, NULL, NULL, NULL, NULL, NULL, period.position, \(periodBookings)
        FROM \(periods)
        UNION ALL
        SELECT 'period_hold', NULL, NULL, NULL, NULL, slot_holds.expires_at, NULL, period.position, 0
        FROM \(periods) JOIN slot_holds ON \(heldInPeriod)
        UNION ALL
        SELECT 'replay', NULL, NULL, NULL, NULL, NULL, NULL, 0, 0
        WHERE EXISTS (SELECT 1 FROM appointments WHERE idempotency_key = \(.idempotencyKey))
        UNION ALL
        SELECT 'email', NULL, NULL, NULL, NULL, NULL, NULL, 0, 1
        WHERE EXISTS (
            SELECT 1 FROM appointments
            WHERE resource = \(.resource) AND status = 'booked' AND \(sameSlot) AND id IS DISTINCT FROM \(.movingID)
                AND lower(customer_email) = lower(\(.customerEmail)))
        """

    /// Takes the locks named in `lockNames` in their order (shared where `lockShared` says so), in a statement
    /// of its own (``checkThenTakeLocks``), so the statements after it take their snapshots once every lock is
    /// held (in READ COMMITTED, a lock taken inside a statement does not refresh that statement's snapshot).
    static let takeLocks: ClaimSQL = """
        SELECT count(*) FROM (
            SELECT CASE WHEN lock.shared THEN pg_advisory_xact_lock_shared(hashtextextended(lock.name, 0))
                ELSE pg_advisory_xact_lock(hashtextextended(lock.name, 0)) END
            FROM unnest(\(.lockNames)::TEXT[], \(.lockShared)::BOOLEAN[]) WITH ORDINALITY AS lock(name, shared, position)
            ORDER BY lock.position
        ) AS taken
        """

    /// Takes the locks (``takeLocks``), then the slot's (`slotLock`, if any): `true` when every lock is held, and
    /// `false` when the slot's lock is held by another transaction and `trySlotLock` asked not to wait for it in
    /// the queue.
    static let takeLocksThenSlotLock: ClaimSQL = """
        CASE WHEN (\(takeLocks)) IS NULL THEN NULL
            WHEN \(.slotLock)::TEXT IS NULL THEN TRUE
            WHEN \(.trySlotLock) THEN pg_try_advisory_xact_lock(hashtextextended(\(.slotLock), 0))
            ELSE (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(hashtextextended(\(.slotLock), 0))) AS slot) = 1
        END
        """

    /// The guard alone (``guardExpressions``): `ok` and `replay` in the statement's own snapshot.
    static let check: ClaimSQL = """
        WITH \(guardExpressions)
        SELECT ok, replay FROM claim_guard
        """

    /// Checks the claim in its own snapshot, taken before any lock, and takes the locks
    /// (``takeLocksThenSlotLock``, an init plan run only when the `CASE` asks for its value) only when the check
    /// lets it through; says whether the booking is a replay.
    ///
    /// `locked` is `NULL` when the check refused, and otherwise what ``takeLocksThenSlotLock`` says.
    static let checkThenTakeLocks: ClaimSQL = """
        WITH \(guardExpressions)
        SELECT CASE WHEN (SELECT ok FROM claim_guard) THEN \(takeLocksThenSlotLock) END AS locked,
            (SELECT replay FROM claim_guard) AS replay
        """
}

/// ``ClaimSQL/checkThenTakeLocks``.
enum CheckThenTakeLocksStatement: ClaimStatementKind {
    static let name = "booking_check_then_take_locks"
    static let rendered = ClaimSQL.checkThenTakeLocks.rendered
}

/// ``ClaimSQL/facts``.
enum ClaimFactsStatement: ClaimStatementKind {
    static let name = "booking_claim_facts"
    static let rendered = ClaimSQL.facts.rendered
}

extension PostgresStore {
    /// A transaction-scoped advisory lock, named by text (its key is `hashtextextended(name, 0)`).
    struct AdvisoryLock: Sendable {
        var name: String
        var shared: Bool
    }

    /// Every prepared statement of the store: those that take a slot (the booking's call among them), and the
    /// read of a window's occupants.
    static let claimStatements: [any ClaimStatementKind.Type] = [
        InsertCallStatement.self, CheckThenTakeLocksStatement.self, ClaimFactsStatement.self, MoveStatement.self,
        HoldStatement.self, OccupantsStatement.self,
    ]

    /// The most statements ``verifyClaimStatements(on:)`` runs on one connection: each claim statement, and the empty
    /// call of first seats. Every operation that verifies counts them in how long it may hold its connection.
    static let verificationStatements = claimStatements.count + 1

    /// Runs the claim statement `kind` with `values` and reads its whole answer.
    ///
    /// It is prepared by PostgresNIO on the connection's first run of it, inside the caller's transaction.
    /// PostgresNIO keeps a failed preparation (a lock timeout while a migration holds a table, say) as the answer
    /// of every later run on that connection, and a failure does not tell a failed preparation from a failed
    /// run, so a statement whose first run on a connection failed is suspect until
    /// ``verifyClaimStatements(on:)`` clears it or closes the connection.
    func runClaim<Kind: ClaimStatementKind>(_ kind: Kind.Type, _ values: ClaimValues, on connection: PostgresConnection)
        async throws -> [PostgresRow]
    {
        try await runTracked(PreparedClaim<Kind>(values: values), on: connection)
    }

    /// Runs the prepared statement `statement` and reads its whole answer, keeping track of its preparation on
    /// `connection` as ``runClaim(_:_:on:)`` does.
    func runTracked<Statement: PostgresPreparedStatement>(_ statement: Statement, on connection: PostgresConnection)
        async throws -> [PostgresRow] where Statement.Row == PostgresRow
    {
        do {
            var answer: [PostgresRow] = []
            for try await row in try await connection.execute(statement, logger: logger) {
                answer.append(row)
            }
            record(Statement.name, on: connection, good: true)
            return answer
        } catch {
            // A constraint violation (SQLSTATE class 23) comes from running the statement: it was prepared.
            record(Statement.name, on: connection, good: Self.sqlState(of: error)?.hasPrefix("23") == true)
            throw error
        }
    }

    /// Notes how a run of the statement `name` on `connection` went: known good once one succeeded, suspect when
    /// its first run failed.
    private func record(_ name: String, on connection: PostgresConnection, good: Bool) {
        let first = claimsPreparedOn.withLock { record in
            let first = record[connection.id] == nil
            if good || record[connection.id]?[name] != true { record[connection.id, default: [:]][name] = good }
            return first
        }
        if first {
            // Forgotten with the connection (the pool closes idle ones), so the record stays small.
            connection.closeFuture.whenComplete { [weak self] _ in
                _ = self?.claimsPreparedOn.withLock { $0.removeValue(forKey: connection.id) }
            }
        }
    }

    /// Before a prepared statement of the store runs: runs each suspect statement of `connection` once, outside
    /// any transaction, with values that match nothing, take no lock and write nothing (no resource, no locks,
    /// capacity 0, no first try of the booking's call, and a call of `booking_first_seats_v2` with no entries). A
    /// run that succeeds clears it; one that fails shows a failed preparation PostgresNIO keeps, so the connection
    /// is closed and the operation runs again on another one. It comes before anything of the operation was sent;
    /// a booking runs it again after a refused `CALL`, whose transaction wrote nothing but the deletion of lapsed
    /// holds, which a second run deletes again harmlessly.
    func verifyClaimStatements(on connection: PostgresConnection) async throws {
        let suspects = claimsPreparedOn.withLock { $0[connection.id]?.filter { !$0.value }.map(\.key) ?? [] }
        guard !suspects.isEmpty else { return }
        var idle = ClaimValues()
        idle.capacity = 0
        do {
            for kind in Self.claimStatements where suspects.contains(kind.name) {
                _ = try await runClaim(kind, idle, on: connection)
            }
            // Once the store stopped calling it, a failed preparation of it no longer matters.
            if suspects.contains(FirstSeatsCall.name), firstSeatsTogether.load(ordering: .relaxed) {
                _ = try await runTracked(FirstSeatsCall.empty, on: connection)
            }
        } catch {
            logger.debug("closing a connection whose claim statement failed to prepare")
            try? await connection.close()
            throw ConnectionLease.StaleConnection()
        }
    }

    /// How many times a claim's check or statement runs in one transaction when it was refused yet the facts read
    /// right after show nothing in the way any more (what stood there left between the two snapshots).
    static let claimAttempts = 3

    /// How many times a claim finds its slot's lock held by another taker and waits for that taker to finish
    /// (then checks again) before it queues for the lock.
    static let slotLockTries = 4

    /// What stands in the way of `claim` now, read by ``ClaimFactsStatement`` in a snapshot of its own.
    func claimFacts(_ values: ClaimValues, on connection: PostgresConnection) async throws -> ClaimFacts {
        var facts = ClaimFacts()
        for row in try await runClaim(ClaimFactsStatement.self, values, on: connection) { try facts.read(row) }
        return facts
    }

    /// Settles `claim`: one statement checks it in its own snapshot, taken before any lock, and takes `locks`
    /// (then `slotLock`, if any) only if that check lets it through: a slot seen full is refused at once, without
    /// queueing behind its takers (a refusal is a read: what stood in the way, read right after, was the truth
    /// during the call). Then
    /// `statement`, the claim's one statement (its guard again, in a snapshot taken under the locks, then its
    /// writes; `nil` when the guard refused) runs. A replay the check already sees (its appointment committed)
    /// runs the statement without any lock: it only reads that appointment. When the check or the statement
    /// refused, ``claimFacts(_:on:)`` reads what stands in the way, and the refusal it makes is thrown.
    ///
    /// The slot's lock is tried first: while another transaction holds it, the claim waits for that one to
    /// finish (a session-level shared lock, taken and given back in one statement, so nothing is held) and checks
    /// again. So when a rush for one slot queues behind its taker, everyone waiting learns at once, in parallel,
    /// that the slot is now full, instead of each in turn under the lock. After ``slotLockTries`` such waits the
    /// claim queues for the lock like any lock (each seat is still taken by one transaction at a time).
    ///
    /// When a check or statement refused but the facts read next show nothing in the way, it runs again, up to
    /// ``claimAttempts`` times in all, then the answer is `slotUnavailable`.
    func settle<T: Sendable>(
        _ claim: SlotClaim, taking locks: [AdvisoryLock], slotLock: String?, on connection: PostgresConnection,
        _ statement: () async throws -> T?
    ) async throws -> T {
        var values = claim.values
        values.lockNames = locks.map(\.name)
        values.lockShared = locks.map(\.shared)
        values.slotLock = slotLock
        var waits = 0
        var refusedChecks = 0
        while true {
            values.trySlotLock = waits < Self.slotLockTries
            let cells = try await runClaim(CheckThenTakeLocksStatement.self, values, on: connection).first?
                .makeRandomAccess()
            let locked = try cells?["locked"].decode(Bool?.self)
            let replay = try cells?["replay"].decode(Bool.self) == true
            if locked == true || replay { break }
            if let slotLock, locked == false {
                // Waits until the slot's taker is done; holds nothing afterwards.
                try await Self.execute(
                    """
                    SELECT pg_advisory_lock_shared(hashtextextended(\(slotLock), 0)),
                        pg_advisory_unlock_shared(hashtextextended(\(slotLock), 0))
                    """, on: connection, logger: logger)
                waits += 1
                continue
            }
            // The check refused and took nothing.
            if let refusal = claim.refusal(given: try await claimFacts(values, on: connection)) { throw refusal }
            refusedChecks += 1
            if refusedChecks == Self.claimAttempts { throw BookingError.slotUnavailable }
        }
        for _ in 0..<Self.claimAttempts {
            if let taken = try await statement() { return taken }
            if let refusal = claim.refusal(given: try await claimFacts(values, on: connection)) { throw refusal }
        }
        throw BookingError.slotUnavailable
    }
}
