public import BookingDomain
public import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// The booked appointments and live holds of `resource` overlapping `window`, sorted by occupied start.
    ///
    /// Two GiST index range scans: the exclusion constraint's index for the appointments, and
    /// `slot_holds_by_occupied` for the holds.
    public func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Date) async throws(BookingError)
        -> [SlotOccupant]
    {
        try await perform { [logger] connection in
            var occupants: [SlotOccupant] = []
            let rows = try await connection.query(
                """
                SELECT slot_start, slot_end, occupied_start, occupied_end, NULL::TIMESTAMPTZ AS expires_at
                FROM appointments
                WHERE resource = \(resource.rawValue) AND status = 'booked'
                    AND tstzrange(occupied_start, occupied_end, '[)')
                        && tstzrange(\(PostgresInstant(window.start)), \(PostgresInstant(window.end)), '[)')
                UNION ALL
                SELECT slot_start, slot_end, occupied_start, occupied_end, expires_at
                FROM slot_holds
                WHERE resource = \(resource.rawValue) AND expires_at > \(PostgresInstant(now))
                    AND tstzrange(occupied_start, occupied_end, '[)')
                        && tstzrange(\(PostgresInstant(window.start)), \(PostgresInstant(window.end)), '[)')
                ORDER BY occupied_start, slot_start, expires_at NULLS FIRST
                """, logger: logger)
            for try await (slotStart, slotEnd, occupiedStart, occupiedEnd, expiresAt) in rows.decode(
                (PostgresInstant, PostgresInstant, PostgresInstant, PostgresInstant, PostgresInstant?).self)
            {
                occupants.append(
                    SlotOccupant(
                        slot: try TimeSlot(start: slotStart.date, end: slotEnd.date),
                        occupied: try TimeSlot(start: occupiedStart.date, end: occupiedEnd.date),
                        holdExpiresAt: expiresAt?.date))
            }
            return occupants
        }
    }

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
