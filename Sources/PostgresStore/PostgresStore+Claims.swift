import BookingDomain
import Foundation
import Logging
import PostgresNIO

/// What a booking, a move or a hold asks of a slot: the inputs of the check that decides whether it can be
/// taken (invariant 12 of `BookingStore`), at millisecond precision as the database stores them.
struct SlotClaim: Sendable {
    var resource: ResourceID
    var slot: TimeSlot
    var occupied: TimeSlot
    var now: Date
    var rules: BookingRules
    /// A booking's customer email (a customer takes one seat of a slot); `nil` for moves and holds.
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
    /// booking of a different, overlapping slot), each day limit's then each week limit's, then the slot's.
    func locks(first: String? = nil, resourceShared: Bool, slotLock: Bool) -> [PostgresStore.AdvisoryLock] {
        var locks: [PostgresStore.AdvisoryLock] = []
        if let first { locks.append(.init(name: first, shared: false)) }
        locks.append(.init(name: "resource/\(resource.rawValue)", shared: resourceShared))
        for kind in [PeriodLimit.Kind.day, .week] {
            let starts = Set(rules.periodLimits.filter { $0.kind == kind }.map(\.period.start.millisecondsSince1970))
            for start in starts.sorted() {
                locks.append(.init(name: "\(kind.rawValue)/\(resource.rawValue)/\(start)", shared: false))
            }
        }
        if slotLock { locks.append(.init(name: PostgresStore.slotLockName(resource, slot.start), shared: false)) }
        return locks
    }

    // MARK: - The check

    private var slotStart: PostgresInstant { PostgresInstant(slot.start) }
    private var slotEnd: PostgresInstant { PostgresInstant(slot.end) }
    private var at: PostgresInstant { PostgresInstant(now) }

    /// `tstzrange(occupied_start, occupied_end) && <the claim's occupied interval>`: a GiST index condition.
    private var overlapsOccupied: SQLFragment {
        """
        tstzrange(occupied_start, occupied_end, '[)')
            && tstzrange(\(PostgresInstant(occupied.start)), \(PostgresInstant(occupied.end)), '[)')
        """
    }

    /// The booked appointments and live holds whose slots start inside `period.starts ..< period.ends` (a row of
    /// the `period` relation), leaving out the moved appointment and the used hold.
    private var periodCount: SQLFragment {
        """
        (SELECT count(*) FROM appointments
            WHERE resource = \(resource.rawValue) AND status = 'booked' AND id IS DISTINCT FROM \(movingID)
                AND slot_start >= period.starts AND slot_start < period.ends)
        + (SELECT count(*) FROM slot_holds
            WHERE resource = \(resource.rawValue) AND expires_at > \(at) AND token_hash IS DISTINCT FROM \(holdTokenHash)
                AND slot_start >= period.starts AND slot_start < period.ends)
        """
    }

    /// The periods of the limits, as the rows of `unnest(...) AS period(starts, ends, most, position)`.
    private var periods: SQLFragment {
        let limits = rules.periodLimits
        return """
            unnest(\(limits.map { PostgresInstant($0.period.start) })::TIMESTAMPTZ[],
                \(limits.map { PostgresInstant($0.period.end) })::TIMESTAMPTZ[],
                \(limits.map { Int64($0.limit) })::BIGINT[]) WITH ORDINALITY AS period(starts, ends, most, position)
            """
    }

    /// Two common table expressions: `claim_hold`, the used hold when it is live and of this resource and slot,
    /// and `claim_guard`, one row whose `ok` is true exactly when
    /// ``BookingRules/refusal(slot:occupied:occupants:periodCounts:emailTaken:)`` finds nothing against the claim
    /// in the statement's snapshot (and the used hold is fine, and the booking is no replay).
    ///
    /// A booked appointment of a different overlapping slot that the snapshot cannot see yet is the exclusion
    /// constraint's to refuse; everything else is serialised by the locks taken before the statement.
    var guardExpressions: SQLFragment {
        let resource = resource.rawValue
        return """
            claim_hold AS (
                SELECT token_hash FROM slot_holds
                WHERE token_hash = \(holdTokenHash) AND expires_at > \(at) AND resource = \(resource)
                    AND slot_start = \(slotStart) AND slot_end = \(slotEnd)
            ), claim_guard AS (
                SELECT (\(holdTokenHash)::TEXT IS NULL OR EXISTS (SELECT 1 FROM claim_hold))
                    -- A replay takes nothing.
                    AND NOT EXISTS (SELECT 1 FROM appointments WHERE idempotency_key = \(idempotencyKey)::TEXT)
                    -- No booked appointment of a different overlapping slot, and not this customer in this slot.
                    AND NOT EXISTS (
                        SELECT 1 FROM appointments
                        WHERE resource = \(resource) AND status = 'booked' AND id IS DISTINCT FROM \(movingID)
                            AND \(overlapsOccupied)
                            AND (slot_start <> \(slotStart) OR slot_end <> \(slotEnd)
                                OR lower(customer_email) = lower(\(customerEmail)::TEXT)))
                    -- No live hold of a different overlapping slot.
                    AND NOT EXISTS (
                        SELECT 1 FROM slot_holds
                        WHERE resource = \(resource) AND expires_at > \(at) AND \(overlapsOccupied)
                            AND (slot_start <> \(slotStart) OR slot_end <> \(slotEnd)))
                    -- A seat left among the booked appointments and the live holds of the slot.
                    AND (SELECT count(*) FROM appointments
                            WHERE resource = \(resource) AND status = 'booked' AND slot_start = \(slotStart)
                                AND slot_end = \(slotEnd) AND id IS DISTINCT FROM \(movingID))
                        + (SELECT count(*) FROM slot_holds
                            WHERE resource = \(resource) AND slot_start = \(slotStart) AND slot_end = \(slotEnd)
                                AND expires_at > \(at) AND token_hash IS DISTINCT FROM \(holdTokenHash))
                        < \(Int64(rules.capacity))
                    -- Room left in every day and week with a limit.
                    AND NOT EXISTS (SELECT 1 FROM \(periods) WHERE \(periodCount) >= period.most) AS ok
            )
            """
    }

    /// A `DELETE` of the lapsed holds of the resource whose occupied intervals overlap the claim's.
    var lapsedHoldsInTheWay: SQLFragment {
        """
        DELETE FROM slot_holds WHERE resource = \(resource.rawValue) AND expires_at <= \(at) AND \(overlapsOccupied)
        """
    }

    // MARK: - Refusal

    /// Why the claim was refused, read after its statement took nothing: in the order of the in-memory store,
    /// a used hold that is not live (`holdExpired`) or is of another slot (`invalidInput`, field `holdToken`),
    /// then what ``BookingRules/refusal(slot:occupied:occupants:periodCounts:emailTaken:)`` says of the facts.
    ///
    /// `nil` when nothing stands in the way any more: something was freed (a cancel, a release, a move away)
    /// between the claim's statement and this one.
    func refusal(on connection: PostgresConnection, logger: Logger) async throws -> BookingError? {
        let resource = resource.rawValue
        let rows = try await connection.query(
            """
            SELECT 'occupant' AS fact, slot_start, slot_end, occupied_start, occupied_end,
                NULL::TIMESTAMPTZ AS expires_at, NULL::TEXT AS resource, 0::BIGINT AS position, 0::BIGINT AS number
            FROM appointments
            WHERE resource = \(resource) AND status = 'booked' AND id IS DISTINCT FROM \(movingID) AND \(overlapsOccupied)
            UNION ALL
            SELECT 'occupant', slot_start, slot_end, occupied_start, occupied_end, expires_at, NULL, 0, 0
            FROM slot_holds
            WHERE resource = \(resource) AND expires_at > \(at) AND token_hash IS DISTINCT FROM \(holdTokenHash)
                AND \(overlapsOccupied)
            UNION ALL
            SELECT 'hold', slot_start, slot_end, occupied_start, occupied_end, expires_at, resource, 0, 0
            FROM slot_holds WHERE token_hash = \(holdTokenHash)
            UNION ALL
            SELECT 'period', NULL, NULL, NULL, NULL, NULL, NULL, period.position, \(periodCount) FROM \(periods)
            UNION ALL
            SELECT 'email', NULL, NULL, NULL, NULL, NULL, NULL, 0, 1
            WHERE EXISTS (
                SELECT 1 FROM appointments
                WHERE resource = \(resource) AND status = 'booked' AND slot_start = \(slotStart) AND slot_end = \(slotEnd)
                    AND id IS DISTINCT FROM \(movingID) AND lower(customer_email) = lower(\(customerEmail)::TEXT))
            """, logger: logger)
        var occupants: [SlotOccupant] = []
        var hold: (resource: String, slot: TimeSlot, expiresAt: Date)?
        var periodCounts = Array(repeating: 0, count: rules.periodLimits.count)
        var emailTaken = false
        for try await row in rows {
            let cells = row.makeRandomAccess()
            func slot(_ start: String, _ end: String) throws -> TimeSlot {
                try TimeSlot(
                    start: cells[start].decode(PostgresInstant.self).date, end: cells[end].decode(PostgresInstant.self).date)
            }
            switch try cells["fact"].decode(String.self) {
            case "occupant":
                occupants.append(
                    SlotOccupant(
                        slot: try slot("slot_start", "slot_end"), occupied: try slot("occupied_start", "occupied_end"),
                        holdExpiresAt: try cells["expires_at"].decode(PostgresInstant?.self)?.date))
            case "hold":
                hold = (
                    try cells["resource"].decode(String.self), try slot("slot_start", "slot_end"),
                    try cells["expires_at"].decode(PostgresInstant.self).date
                )
            case "period":
                let position = Int(try cells["position"].decode(Int64.self)) - 1
                if periodCounts.indices.contains(position) {
                    periodCounts[position] = Int(try cells["number"].decode(Int64.self))
                }
            default:
                emailTaken = true
            }
        }
        if holdTokenHash != nil {
            guard let hold, hold.expiresAt > now else { return .holdExpired }
            guard hold.resource == self.resource.rawValue, hold.slot == slot else {
                return .invalidInput(field: "holdToken", "holds another slot")
            }
        }
        return rules.refusal(
            slot: slot, occupied: occupied, occupants: occupants, periodCounts: periodCounts, emailTaken: emailTaken)
    }
}

extension PostgresStore {
    /// A transaction-scoped advisory lock, named by text (its key is `hashtextextended(name, 0)`).
    struct AdvisoryLock: Sendable {
        var name: String
        var shared: Bool
    }

    /// How many times a claim's statement runs in one transaction when it took nothing but the facts read
    /// after it show nothing in the way (something was freed in between).
    static let claimAttempts = 3

    /// Takes `locks` in their order, in a statement of its own, so the statements after it take their
    /// snapshots once every lock is held (in READ COMMITTED, a lock taken inside a statement does not
    /// refresh that statement's snapshot).
    static func take(_ locks: [AdvisoryLock], on connection: PostgresConnection, logger: Logger) async throws {
        try await execute(
            """
            SELECT count(*) FROM (
                SELECT CASE WHEN lock.shared THEN pg_advisory_xact_lock_shared(hashtextextended(lock.name, 0))
                    ELSE pg_advisory_xact_lock(hashtextextended(lock.name, 0)) END
                FROM unnest(\(locks.map(\.name))::TEXT[], \(locks.map(\.shared))::BOOLEAN[])
                    WITH ORDINALITY AS lock(name, shared, position)
                ORDER BY lock.position
            ) AS taken
            """, on: connection, logger: logger)
    }

    /// Runs `statement`, the claim's one statement (its guard, then its writes); when it takes nothing (returns
    /// `nil`), throws the claim's refusal. When the facts show nothing in the way any more, runs it again (the
    /// locks are still held), up to ``claimAttempts`` times, then answers `slotUnavailable`.
    static func settle<T: Sendable>(
        _ claim: SlotClaim, on connection: PostgresConnection, logger: Logger,
        _ statement: () async throws -> T?
    ) async throws -> T {
        for _ in 0..<claimAttempts {
            if let taken = try await statement() { return taken }
            if let refusal = try await claim.refusal(on: connection, logger: logger) { throw refusal }
        }
        throw BookingError.slotUnavailable
    }
}
