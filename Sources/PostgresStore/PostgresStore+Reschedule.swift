import BookingDomain
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// Moves a booked appointment in one transaction: the row is read `FOR UPDATE` (to tell an unknown,
    /// a cancelled and an unmoved appointment apart), the advisory locks of the new slot are taken as for a
    /// booking (the resource's shared, each limited day's and week's, the slot's), then one statement checks the
    /// rules for the new slot with the appointment itself counted nowhere (so a move within one day never counts
    /// twice) and its customer's email checked as for a booking, deletes the lapsed holds in the way, and only if the check passed updates the row and inserts its
    /// `rescheduled` notification and key, makes the old slot's pending reminders obsolete and writes the new
    /// slot's.
    ///
    /// The exclusion constraint checks the new occupied interval against every other booked row of a different
    /// slot (the row's own old version is replaced, so overlapping it is fine), and the seat index its seat (the
    /// lowest free one of the new slot, chosen under the slot's lock, which a booking's first try holds shared);
    /// a violation is `slotUnavailable` and rolls everything back. When the check refused, the facts are read
    /// and the refusal of `BookingRules/refusal(slot:occupied:occupants:periodCounts:emailTaken:)` is thrown (a
    /// held slot is `slotHeld`). Retries with one idempotency key queue on a lock of their own, and all but the
    /// first find its key.
    public func reschedule(_ move: AppointmentMove) async throws(BookingError) -> RescheduleOutcome? {
        try move.validate()
        let outcome = try await performTransaction(claims: true) {
            [self, logger] connection -> RescheduleOutcome? in
            if let key = move.idempotencyKey {
                try await Self.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended('reschedule/' || \(key), 0))", on: connection,
                    logger: logger)
                if let existing = try await Self.reschedule(idempotencyKey: key, on: connection, logger: logger) {
                    return .existing(existing)
                }
            }
            guard
                let current = try await Self.records(
                    connection.query(
                        """
                        SELECT \(unescaped: Self.appointmentColumns) FROM appointments
                        WHERE id = \(move.appointmentID) FOR UPDATE
                        """, logger: logger)
                ).first?.appointment
            else { return nil }
            guard current.status == .booked else { throw BookingError.appointmentCancelled }
            let now = PostgresInstant(move.now)
            if current.slot.start.millisecondsSince1970 == move.slot.start.millisecondsSince1970,
                current.slot.end.millisecondsSince1970 == move.slot.end.millisecondsSince1970
            {
                try await Self.execute(
                    """
                    INSERT INTO reschedule_keys (idempotency_key, appointment_id, request_fingerprint, created_at)
                    SELECT \(move.idempotencyKey), \(move.appointmentID), \(move.requestFingerprint), \(now)
                    WHERE \(move.idempotencyKey)::TEXT IS NOT NULL
                    """, on: connection, logger: logger)
                return .unchanged(current)
            }
            if move.onlyIfAlreadyThere {
                throw BookingError.slotNotOffered("the appointment moved meanwhile, and this slot is no longer offered")
            }
            let claim = SlotClaim(
                resource: current.resource, slot: move.slot, occupied: move.occupied, now: move.now, rules: move.rules,
                customerEmail: current.customerEmail, movingID: move.appointmentID)
            var values = claim.values
            values.requestFingerprint = move.requestFingerprint
            values.rescheduleKey = move.idempotencyKey
            values.previousSlotStart = PostgresInstant(current.slot.start)
            values.previousSlotEnd = PostgresInstant(current.slot.end)
            (values.reminderLeads, values.reminderDues) = Self.reminderArrays(move.reminders)
            let locks = claim.locks(resourceShared: true)
            let moved = try await settle(claim, taking: locks, slotLock: claim.slotLock, on: connection) {
                try await runClaim(MoveStatement.self, values, on: connection).first.map(Self.record)?.appointment
            }
            return .moved(moved)
        }
        if case .moved? = outcome { wakeDispatchers() }
        return outcome
    }

    /// The reschedule stored under that key, with its appointment as it is now.
    public func rescheduleRecord(idempotencyKey: String) async throws(BookingError) -> RescheduleRecord? {
        try await perform { [logger] connection in
            try await Self.reschedule(idempotencyKey: idempotencyKey, on: connection, logger: logger)
        }
    }

    private static func reschedule(idempotencyKey key: String, on connection: PostgresConnection, logger: Logger)
        async throws -> RescheduleRecord?
    {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: Self.appointmentColumns),
                (SELECT request_fingerprint FROM reschedule_keys WHERE idempotency_key = \(key)) AS key_fingerprint
            FROM appointments WHERE id = (SELECT appointment_id FROM reschedule_keys WHERE idempotency_key = \(key))
            """, logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        return RescheduleRecord(
            appointment: try Self.record(row).appointment,
            requestFingerprint: try row.makeRandomAccess()["key_fingerprint"].decode(String.self))
    }
}

/// The statement of ``PostgresStore/reschedule(_:)``: the check under the locks (the appointment itself counted
/// nowhere), the lapsed holds in the way deleted, and only when the check passes the row moved, its pending
/// reminders obsolete, its `rescheduled` notification and new reminders inserted and its key remembered; the
/// moved appointment, or no row when the check refused.
enum MoveStatement: ClaimStatementKind {
    static let name = "booking_move"
    static let rendered = ClaimSQL.move.rendered
}

extension ClaimSQL {
    /// See ``MoveStatement``.
    static let move: ClaimSQL = """
        WITH \(guardExpressions), lapsed AS (
            \(lapsedHoldsInTheWay)
        ), moved AS (
            UPDATE appointments
            SET slot_start = \(.slotStart), slot_end = \(.slotEnd), occupied_start = \(.occupiedStart),
                occupied_end = \(.occupiedEnd), seat = \(freeSeat), sequence = sequence + 1, updated_at = \(.now)
            WHERE id = \(.movingID) AND status = 'booked' AND (SELECT ok FROM claim_guard)
            RETURNING \(unescaped: PostgresStore.appointmentColumns)
        ), obsolete AS (
            UPDATE notifications
            SET status = 'obsolete', lease_owner = NULL, lease_expires_at = NULL, updated_at = \(.now)
            WHERE appointment_id IN (SELECT id FROM moved) AND kind = 'reminder' AND status = 'pending'
        ), notifications AS (
            -- One INSERT, so the rescheduled notification takes the first id and the reminders follow in
            -- order; the UPDATE above sees none of these rows (one snapshot for the whole statement).
            INSERT INTO notifications (appointment_id, kind, sequence, previous_slot_start, previous_slot_end,
                reminder_lead_seconds, status, attempts, next_attempt_at, created_at, updated_at)
            SELECT moved.id, event.kind, moved.sequence, event.previous_start, event.previous_end,
                event.lead_seconds, 'pending', 0, event.due_at, \(.now), \(.now)
            FROM moved, (
                SELECT 0::BIGINT AS position, 'rescheduled' AS kind, \(.previousSlotStart) AS previous_start,
                    \(.previousSlotEnd) AS previous_end, 0::BIGINT AS lead_seconds, \(.now) AS due_at
                UNION ALL
                SELECT reminder.position, 'reminder', NULL, NULL, reminder.lead_seconds, reminder.due_at
                FROM unnest(\(.reminderLeads)::BIGINT[], \(.reminderDues)::TIMESTAMPTZ[])
                    WITH ORDINALITY AS reminder(lead_seconds, due_at, position)
            ) AS event
            ORDER BY event.position
        ), remembered AS (
            INSERT INTO reschedule_keys (idempotency_key, appointment_id, request_fingerprint, created_at)
            SELECT \(.rescheduleKey), id, \(.requestFingerprint), \(.now)
            FROM moved WHERE \(.rescheduleKey)::TEXT IS NOT NULL
        )
        SELECT \(unescaped: PostgresStore.appointmentColumns) FROM moved
        """
}
