public import BookingDomain
public import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// The booked appointments and live holds of `resource` overlapping `window`, sorted by occupied start.
    ///
    /// Two GiST index range scans: the exclusion constraint's index for the appointments (among the resource's
    /// own entries, see `ClaimSQL.bookedOfResource`), and `slot_holds_by_occupied` for the holds, in one prepared
    /// statement planned once per connection (`OccupantsStatement`). Reads of the resource whose windows fall in the
    /// same whole minutes and that arrive while one runs share the next statement (`OccupantsCoalescer`): each still
    /// sees every commit made before it was asked.
    public func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Date) async throws(BookingError)
        -> [SlotOccupant]
    {
        let bound = OccupantsCoalescer.Window(
            resource: resource.rawValue, startMilliseconds: window.start.millisecondsSince1970,
            endMilliseconds: window.end.millisecondsSince1970)
        return try await occupantsCoalescer.read(bound, now: now.millisecondsSince1970) {
            [self] (window, now) throws(BookingError) in
            var values = ClaimValues()
            values.resource = window.resource
            values.occupiedStart = PostgresInstant(millisecondsSince1970: window.startMilliseconds)
            values.occupiedEnd = PostgresInstant(millisecondsSince1970: window.endMilliseconds)
            values.now = PostgresInstant(millisecondsSince1970: now)
            return try await perform(statements: Self.verificationStatements + 1) { [self, values] connection in
                try await verifyClaimStatements(on: connection)
                return try await runClaim(OccupantsStatement.self, values, on: connection).map(Self.occupant)
            }
        }
    }

    /// An occupant from a row of ``OccupantsStatement``, its five instants read cell by cell: a fully booked week of
    /// 5-minute slots is 2,016 rows, and PostgresNIO's decoding of a row into a tuple cost 0.5 µs more a row
    /// (BENCHMARKS.md, session 31).
    static func occupant(_ row: PostgresRow) throws(BookingError) -> SlotOccupant {
        var cells = row.makeIterator()
        func instant() throws(BookingError) -> Date? {
            guard let cell = cells.next() else { throw unreadableOccupant }
            do { return try cell.decode(PostgresInstant?.self)?.date } catch { throw unreadableOccupant }
        }
        guard let slotStart = try instant(), let slotEnd = try instant(), let occupiedStart = try instant(),
            let occupiedEnd = try instant()
        else { throw unreadableOccupant }
        return SlotOccupant(
            slot: try TimeSlot(start: slotStart, end: slotEnd),
            occupied: try TimeSlot(start: occupiedStart, end: occupiedEnd), holdExpiresAt: try instant())
    }

    /// An occupant row missing a cell, holding a `NULL` where an instant belongs, or of another type.
    private static let unreadableOccupant = BookingError.storeUnavailable("an occupant row could not be read")

    /// Holds a seat of `hold.slot` in one transaction: the resource's advisory lock exclusively (so no booking or
    /// move of the resource runs meanwhile, whatever slot it takes, and no other hold) and each limited day's and
    /// week's lock, taken by a statement that first checks the rules in its own snapshot and takes none when they
    /// already refuse; then one statement that checks them again under the locks, deletes the lapsed holds of the
    /// resource, and inserts the hold only if the rules let it take the slot. A refusal throws what
    /// `BookingRules/refusal(slot:occupied:occupants:periodCounts:emailTaken:)` says of what stands in the way,
    /// read right after the refusing statement; a token hash already in use is `BookingError/Code/invalidInput`
    /// (field `tokenHash`).
    public func placeHold(_ hold: NewHold) async throws(BookingError) -> SlotHold {
        try hold.validate()
        let claim = SlotClaim(
            resource: hold.resource, slot: hold.slot, occupied: hold.occupied, now: hold.now, rules: hold.rules)
        let locks = claim.locks(resourceShared: false)
        let placed = SlotHold(
            resource: hold.resource, slot: claim.slot, expiresAt: hold.expiresAt.roundedToMilliseconds)
        var holdValues = claim.values
        holdValues.newTokenHash = hold.tokenHash
        holdValues.holdExpiresAt = PostgresInstant(hold.expiresAt)
        let values = holdValues
        return try await performTransaction(claims: true) { [self] connection in
            try await settle(claim, taking: locks, slotLock: nil, on: connection) {
                let cells = try await runClaim(HoldStatement.self, values, on: connection).first?.makeRandomAccess()
                guard try cells?["ok"].decode(Bool.self) == true else { return nil }
                guard try cells?["placed"].decode(Bool.self) == true else {
                    throw BookingError.invalidInput(field: "tokenHash", "is already in use")
                }
                return placed
            }
        }
    }

    /// Deletes the hold with that token hash in one statement; answers whether it was live at `now` (a lapsed
    /// one is deleted too, and answers `false`).
    public func releaseHold(tokenHash: String, now: Date) async throws(BookingError) -> Bool {
        try await performTransaction { [logger] connection in
            let rows = try await connection.query(
                """
                DELETE FROM slot_holds WHERE token_hash = \(tokenHash)
                RETURNING expires_at > \(PostgresInstant(now)) AS live
                """, logger: logger
            ).collect()
            return try rows.first?.decode(Bool.self) ?? false
        }
    }
}

/// The statement of ``PostgresStore/placeHold(_:)``: the check under the locks, the lapsed holds of the resource
/// deleted, and the hold inserted only when the check passes (unless its token hash is taken); whether the check
/// passed and the hold was placed.
enum HoldStatement: ClaimStatementKind {
    static let name = "booking_hold"
    static let rendered = ClaimSQL.hold.rendered
}

extension ClaimSQL {
    /// See ``HoldStatement``.
    static let hold: ClaimSQL = """
        WITH \(guardExpressions), lapsed AS (
            DELETE FROM slot_holds WHERE resource = \(.resource) AND expires_at <= \(.now)
        ), placed AS (
            INSERT INTO slot_holds (token_hash, resource, slot_start, slot_end, occupied_start, occupied_end,
                expires_at, created_at)
            SELECT \(.newTokenHash), \(.resource), \(.slotStart), \(.slotEnd), \(.occupiedStart), \(.occupiedEnd),
                \(.holdExpiresAt), \(.now)
            WHERE (SELECT ok FROM claim_guard)
            ON CONFLICT (token_hash) DO NOTHING
            RETURNING token_hash
        )
        SELECT (SELECT ok FROM claim_guard) AS ok, EXISTS (SELECT 1 FROM placed) AS placed
        """
}

/// The read of ``PostgresStore/occupants(resource:overlapping:now:)``: the booked appointments and live holds
/// of the resource whose occupied intervals overlap the window (bound as the occupied interval).
enum OccupantsStatement: ClaimStatementKind {
    static let name = "booking_occupants"
    static let rendered = ClaimSQL.occupants.rendered
}

extension ClaimSQL {
    /// See ``OccupantsStatement``.
    static let occupants: ClaimSQL = """
        SELECT slot_start, slot_end, occupied_start, occupied_end, NULL::TIMESTAMPTZ AS expires_at
        FROM appointments
        WHERE \(bookedOfResource) AND \(overlapsOccupied)
        UNION ALL
        SELECT slot_start, slot_end, occupied_start, occupied_end, expires_at
        FROM slot_holds
        WHERE resource = \(.resource) AND expires_at > \(.now) AND \(overlapsOccupied)
        ORDER BY occupied_start, slot_start, expires_at NULLS FIRST
        """
}
