public import BookingDomain
public import Foundation
import GRDB

extension SQLiteStore {
    /// The booked appointments and the holds live at `now` of `resource` whose occupied intervals overlap
    /// `window`, sorted by occupied start (a booked appointment before a hold with the same start).
    ///
    /// Index range scans only: the booked rows starting inside the window, the seats of the one slot that
    /// may reach into it from before (found from the latest booked row starting before it), and the holds
    /// starting at most 72 hours before it (no hold is longer). A file database reads on read-only connections of the
    /// store's own, on the calling thread, or through GRDB when they are all reading or the file is locked (GRDB's
    /// readers wait for the lock off the calling thread); a private in-memory one reads through GRDB.
    public func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Date) async throws(BookingError)
        -> [SlotOccupant]
    {
        let occupants: [SlotOccupant]
        if let read = try occupantsReader?.occupants(
            resource: resource, overlapping: window, now: now.millisecondsSince1970)
        {
            occupants = read
        } else {
            // One statement (see occupantsSQL), so no transaction: keep it one.
            occupants = try await readOneStatement { db in
                try Self.fetchOccupants(
                    db, resource: resource, overlapping: window, now: now.millisecondsSince1970, withEmails: false
                )
                .map { $0.occupant }
            }
        }
        return occupants.sorted { first, second in
            (first.occupied.start, first.isHold ? 1 : 0, first.occupied.end)
                < (second.occupied.start, second.isHold ? 1 : 0, second.occupied.end)
        }
    }

    /// Holds one seat of `hold.slot` in one immediate transaction: the lapsed holds go first, then the rules
    /// are checked on what the transaction sees (`BookingRules/refusal(slot:occupied:occupants:periodCounts:emailTaken:)`),
    /// then the hold is written.
    ///
    /// Besides `NewHold/validate()` (which bounds the occupied interval by
    /// `NewHold/longestOccupiedInterval`, how far reads look back for holds), refuses with
    /// `BookingError/Code/invalidInput` a token hash held by another live hold.
    public func placeHold(_ hold: NewHold) async throws(BookingError) -> SlotHold {
        try hold.validate()
        let slot = Self.rounded(hold.slot)
        let occupied = Self.rounded(hold.occupied)
        let placed = SlotHold(resource: hold.resource, slot: slot, expiresAt: hold.expiresAt.roundedToMilliseconds)
        return try await write { db in
            let now = hold.now.millisecondsSince1970
            try Self.deleteLapsedHolds(db, now: now)
            if let refusal = try Self.refusal(
                db, resource: hold.resource, slot: slot, occupied: occupied, rules: hold.rules, now: now)
            {
                throw refusal
            }
            // Every lapsed hold is gone, so a conflict is a live hold with this token hash.
            try db.cachedStatement(
                sql: """
                    INSERT INTO slot_holds (token_hash, resource, slot_start, slot_end, occupied_start, occupied_end,
                        expires_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (token_hash) DO NOTHING
                    """
            ).execute(arguments: [
                hold.tokenHash, hold.resource.rawValue, slot.start.millisecondsSince1970,
                slot.end.millisecondsSince1970, occupied.start.millisecondsSince1970,
                occupied.end.millisecondsSince1970, placed.expiresAt.millisecondsSince1970, now,
            ])
            guard db.changesCount == 1 else { throw BookingError.invalidInput(field: "tokenHash", "is already in use") }
            return placed
        }
    }

    /// Deletes the hold with that token hash in one immediate transaction; answers whether it was live at
    /// `now` (a lapsed one is deleted too, answering `false`).
    public func releaseHold(tokenHash: String, now: Date) async throws(BookingError) -> Bool {
        let now = now.millisecondsSince1970
        return try await write { db in
            let expiry = try Int64.fetchOne(
                db.cachedStatement(sql: "DELETE FROM slot_holds WHERE token_hash = ? RETURNING expires_at"),
                arguments: [tokenHash])
            return expiry.map { $0 > now } ?? false
        }
    }

    // MARK: - Inside a taking transaction

    /// The longest occupied interval a hold may have, in milliseconds: 72 hours, a slot of at most 24 hours with
    /// buffers of at most 24 hours on each side (the bounds of `Schedule`). Reads of the holds reaching into
    /// a window look back this far before it; `slot_holds` checks it too.
    static let longestHeldInterval = NewHold.longestOccupiedInterval.components.seconds * 1000

    /// Deletes every hold lapsed by `now`: it takes nothing any more, and the transaction that needs its slot
    /// (or any other) clears it. One range scan of the expiry index.
    static func deleteLapsedHolds(_ db: Database, now: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM slot_holds WHERE expires_at <= ?").execute(arguments: [now])
    }

    /// Checks the hold a booking uses: live at `now` (else `BookingError/Code/holdExpired`) and of this very
    /// resource and slot (else `BookingError/Code/invalidInput`, field `holdToken`).
    static func checkHold(_ db: Database, tokenHash: String, resource: ResourceID, slot: TimeSlot, now: Int64) throws {
        guard
            let held = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT resource, slot_start, slot_end, expires_at FROM slot_holds WHERE token_hash = ?"),
                arguments: [tokenHash]),
            held["expires_at"] as Int64 > now
        else { throw BookingError.holdExpired }
        guard held["resource"] as String == resource.rawValue,
            held["slot_start"] as Int64 == slot.start.millisecondsSince1970,
            held["slot_end"] as Int64 == slot.end.millisecondsSince1970
        else { throw BookingError.invalidInput(field: "holdToken", "holds another slot") }
    }

    /// Deletes the hold a booking used.
    static func deleteHold(_ db: Database, tokenHash: String) throws {
        try db.cachedStatement(sql: "DELETE FROM slot_holds WHERE token_hash = ?").execute(arguments: [tokenHash])
    }

    /// What `BookingRules/refusal(slot:occupied:occupants:periodCounts:emailTaken:)` says about taking `slot`
    /// on what the transaction sees, leaving out the appointment being moved and the hold being used: the
    /// occupants overlapping `occupied` (with the emails of the booked ones), and one count per period limit.
    ///
    /// `email` is the customer's of a booking or a move (checked against the slot's seats, ignoring case), `nil`
    /// for a hold.
    static func refusal(
        _ db: Database, resource: ResourceID, slot: TimeSlot, occupied: TimeSlot, rules: BookingRules, now: Int64,
        email: String? = nil, movingAppointment: Int64? = nil, usingHold: String? = nil
    ) throws -> BookingError? {
        let rows = try fetchOccupants(
            db, resource: resource, overlapping: occupied, now: now, withEmails: email != nil,
            movingAppointment: movingAppointment, usingHold: usingHold)
        var emailTaken = false
        if let email = email?.lowercased() {
            emailTaken = rows.contains { $0.occupant.slot == slot && $0.customerEmail?.lowercased() == email }
        }
        let periodCounts = try rules.periodLimits.map { limit in
            let period: StatementArguments = [
                "resource": resource.rawValue, "start": limit.period.start.millisecondsSince1970,
                "end": limit.period.end.millisecondsSince1970,
            ]
            return PeriodCount(
                booked: try Int.fetchOne(
                    db.cachedStatement(sql: periodBookedSQL), arguments: period + ["moving": movingAppointment]) ?? 0,
                holdExpiries: try Int64.fetchAll(
                    db.cachedStatement(sql: periodHoldExpiriesSQL),
                    arguments: period + ["now": now, "using": usingHold]
                ).map { Date(millisecondsSince1970: $0) })
        }
        return rules.refusal(
            slot: slot, occupied: occupied, occupants: rows.map(\.occupant), periodCounts: periodCounts,
            emailTaken: emailTaken)
    }

    /// The booked appointments (with their customers' emails when `withEmails`) and the holds live at `now` of
    /// `resource` whose occupied intervals overlap `window`, in no particular order; see ``occupantsSQL``.
    ///
    /// Reads the rows in place, one at a time (a busy week is thousands of them), rather than copying each.
    static func fetchOccupants(
        _ db: Database, resource: ResourceID, overlapping window: TimeSlot, now: Int64, withEmails: Bool,
        movingAppointment: Int64? = nil, usingHold: String? = nil
    ) throws -> [OccupantRow] {
        let start = window.start.millisecondsSince1970
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: occupantsSQL),
            arguments: [
                "resource": resource.rawValue, "start": start, "end": window.end.millisecondsSince1970,
                "lookBack": start - longestHeldInterval, "now": now, "moving": movingAppointment, "using": usingHold,
            ])
        var occupants: [OccupantRow] = []
        while let row = try rows.next() { occupants.append(try occupantRow(row, withEmail: withEmails)) }
        return occupants
    }

    /// Booked rows of different slots never overlap (the triggers), while the seats of one slot all contain it:
    /// each slot's booked rows form a group, and the groups follow one another in time without overlapping. So
    /// the booked rows overlapping `[:start, :end)` are those starting inside it, plus the seats of the one group
    /// that may contain `:start`: the group of the latest booked row starting before it (one index probe, then a
    /// seek on its slot_start; the unary + keeps the planner on that seek). Holds are few and at most 72 hours
    /// long: a range scan from 72 hours before. `:moving` and `:using` leave out an appointment and a hold
    /// (`NULL` for none). No `ORDER BY`: it would steer the planner to the occupied_start index for every arm.
    /// ``occupantRow(_:withEmail:)`` reads the columns by position, in this order. (The benchmarks run it too, beside
    /// the store.)
    package static let occupantsSQL = """
        SELECT slot_start, slot_end, occupied_start, occupied_end, customer_email, NULL AS expires_at
        FROM appointments
        WHERE resource = :resource AND status = 'booked' AND id IS NOT :moving
            AND slot_start = (
                SELECT slot_start FROM appointments
                WHERE resource = :resource AND status = 'booked' AND occupied_start < :start
                ORDER BY occupied_start DESC LIMIT 1)
            AND +occupied_start < :start AND +occupied_end > :start
        UNION ALL
        SELECT slot_start, slot_end, occupied_start, occupied_end, customer_email, NULL
        FROM appointments
        WHERE resource = :resource AND status = 'booked' AND id IS NOT :moving
            AND occupied_start >= :start AND occupied_start < :end
        UNION ALL
        SELECT slot_start, slot_end, occupied_start, occupied_end, NULL, expires_at
        FROM slot_holds
        WHERE resource = :resource AND occupied_start >= :lookBack AND occupied_start < :end
            AND occupied_end > :start AND expires_at > :now AND token_hash IS NOT :using
        """

    /// The booked appointments of `:resource` whose slots start inside `[:start, :end)`, leaving out `:moving`:
    /// a count on the covering (resource, slot_start, status) index.
    static let periodBookedSQL = """
        SELECT count(*) FROM appointments
        WHERE resource = :resource AND status = 'booked' AND slot_start >= :start AND slot_start < :end
            AND id IS NOT :moving
        """

    /// The expiries of the live holds of a period (`:start` to `:end`), leaving out the hold `:using`.
    static let periodHoldExpiriesSQL = """
        SELECT expires_at FROM slot_holds
        WHERE resource = :resource AND slot_start >= :start AND slot_start < :end AND expires_at > :now
            AND token_hash IS NOT :using
        """

    /// A slot with both bounds at the nearest millisecond, as the store keeps instants.
    static func rounded(_ slot: TimeSlot) -> TimeSlot {
        // Both bounds only move to the nearest millisecond, and the input was checked by `validate()`; a slot
        // that rounding would empty is kept as it is, and the schema's checks refuse it.
        (try? TimeSlot(start: slot.start.roundedToMilliseconds, end: slot.end.roundedToMilliseconds)) ?? slot
    }
}

/// One occupant a taking transaction reads, with the customer's email of a booked appointment.
struct OccupantRow {
    /// The booked appointment's or the hold's slot and occupied interval.
    var occupant: SlotOccupant
    /// The customer's email of a booked appointment; `nil` for a hold.
    var customerEmail: String?
}
