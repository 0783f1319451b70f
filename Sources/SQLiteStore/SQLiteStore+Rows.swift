import BookingDomain
import Foundation
import GRDB

extension SQLiteStore {
    static let appointmentColumns = """
        id, resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note,
        status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, cancelled_at,
        sealed_cancel_token, sequence
        """

    static let notificationColumns = """
        id, appointment_id, kind, status, attempts, next_attempt_at, lease_owner, lease_expires_at, error,
        created_at, updated_at, sent_at, sequence, previous_slot_start, previous_slot_end, reminder_lead_seconds
        """

    static func instant(_ row: Row, _ column: String) -> Date { Date(millisecondsSince1970: row[column]) }

    static func optionalInstant(_ row: Row, _ column: String) -> Date? {
        (row[column] as Int64?).map(Date.init(millisecondsSince1970:))
    }

    /// Rebuilds a record; a row the schema's checks admitted always decodes.
    static func record(_ row: Row) throws(BookingError) -> AppointmentRecord {
        guard let resource = ResourceID(rawValue: row["resource"]),
            let status = Appointment.Status(rawValue: row["status"])
        else { throw .storeUnavailable("an appointment row could not be read") }
        let slot = try TimeSlot(start: instant(row, "slot_start"), end: instant(row, "slot_end"))
        let occupied = try TimeSlot(start: instant(row, "occupied_start"), end: instant(row, "occupied_end"))
        let appointment = Appointment(
            id: row["id"], resource: resource, slot: slot, occupied: occupied, customerName: row["customer_name"],
            customerEmail: row["customer_email"], note: row["note"], status: status,
            createdAt: instant(row, "created_at"), updatedAt: instant(row, "updated_at"),
            cancelledAt: optionalInstant(row, "cancelled_at"), sequence: row["sequence"])
        return AppointmentRecord(
            appointment: appointment, cancelTokenHash: row["cancel_token_hash"], idempotencyKey: row["idempotency_key"],
            requestFingerprint: row["request_fingerprint"], sealedCancelToken: row["sealed_cancel_token"])
    }

    static func notification(_ row: Row) throws(BookingError) -> BookingNotification {
        guard let kind = BookingNotification.Kind(rawValue: row["kind"]),
            let status = BookingNotification.Status(rawValue: row["status"])
        else { throw .storeUnavailable("a notification row could not be read") }
        var previousSlot: TimeSlot?
        if let start = optionalInstant(row, "previous_slot_start"), let end = optionalInstant(row, "previous_slot_end")
        {
            previousSlot = try TimeSlot(start: start, end: end)
        }
        let leadSeconds: Int64 = row["reminder_lead_seconds"]
        return BookingNotification(
            id: row["id"], appointmentID: row["appointment_id"], kind: kind, status: status, attempts: row["attempts"],
            nextAttemptAt: instant(row, "next_attempt_at"), leaseOwner: row["lease_owner"],
            leaseExpiresAt: optionalInstant(row, "lease_expires_at"), lastError: row["error"],
            createdAt: instant(row, "created_at"), updatedAt: instant(row, "updated_at"),
            sentAt: optionalInstant(row, "sent_at"), sequence: row["sequence"], previousSlot: previousSlot,
            reminderLead: kind == .reminder ? .seconds(leadSeconds) : nil)
    }

    /// Rebuilds an occupant from a row of ``occupantsSQL``, reading its columns by position (the statement's
    /// order): a hold has an expiry, a booked appointment an email, which is read only when `withEmail`.
    static func occupantRow(_ row: Row, withEmail: Bool) throws(BookingError) -> OccupantRow {
        let slot = try TimeSlot(
            start: Date(millisecondsSince1970: row[0]), end: Date(millisecondsSince1970: row[1]))
        let occupied = try TimeSlot(
            start: Date(millisecondsSince1970: row[2]), end: Date(millisecondsSince1970: row[3]))
        let holdExpiresAt = (row[5] as Int64?).map(Date.init(millisecondsSince1970:))
        return OccupantRow(
            occupant: SlotOccupant(slot: slot, occupied: occupied, holdExpiresAt: holdExpiresAt),
            customerEmail: withEmail ? row[4] : nil)
    }

    static func fetchRecord(_ db: Database, id: Int64) throws -> AppointmentRecord? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(appointmentColumns) FROM appointments WHERE id = ?"), arguments: [id]
        ).map { row in try record(row) }
    }

    /// The reschedule stored under `idempotencyKey`, with its appointment as it is now.
    static func fetchReschedule(_ db: Database, idempotencyKey: String) throws -> RescheduleRecord? {
        guard
            let stored = try Row.fetchOne(
                db, sql: "SELECT appointment_id, request_fingerprint FROM reschedule_keys WHERE idempotency_key = ?",
                arguments: [idempotencyKey]),
            let record = try fetchRecord(db, id: stored["appointment_id"])
        else { return nil }
        return RescheduleRecord(appointment: record.appointment, requestFingerprint: stored["request_fingerprint"])
    }

    /// Records the key of a reschedule, if it has one.
    static func rememberReschedule(_ db: Database, _ move: AppointmentMove, now: Int64) throws {
        guard let key = move.idempotencyKey else { return }
        try db.execute(
            sql: """
                INSERT INTO reschedule_keys (idempotency_key, appointment_id, request_fingerprint, created_at)
                VALUES (?, ?, ?, ?)
                """,
            arguments: [key, move.appointmentID, move.requestFingerprint, now])
    }

    /// Enqueues a pending notification, due at once; a `rescheduled` one carries the move's sequence and the
    /// previous slot, a `cancelled` one the cancel's sequence.
    static func enqueue(
        _ db: Database, _ kind: BookingNotification.Kind, appointmentID: Int64, now: Int64, sequence: Int = 0,
        previousSlot: TimeSlot? = nil
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO notifications (appointment_id, kind, sequence, previous_slot_start, previous_slot_end, status,
                    attempts, next_attempt_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)
                """
        ).execute(
            arguments: [
                appointmentID, kind.rawValue, sequence, previousSlot?.start.millisecondsSince1970,
                previousSlot?.end.millisecondsSince1970, now, now, now,
            ])
    }

    /// Enqueues one pending `reminder` per scheduled reminder, due at its time, with `sequence`.
    static func enqueue(
        _ db: Database, _ reminders: [ScheduledReminder], appointmentID: Int64, sequence: Int, now: Int64
    ) throws {
        for reminder in reminders {
            try db.execute(
                sql: """
                    INSERT INTO notifications (appointment_id, kind, sequence, reminder_lead_seconds, status, attempts,
                        next_attempt_at, created_at, updated_at)
                    VALUES (?, 'reminder', ?, ?, 'pending', 0, ?, ?, ?)
                    """,
                arguments: [
                    appointmentID, sequence, reminder.lead.components.seconds, reminder.dueAt.millisecondsSince1970,
                    now,
                    now,
                ])
        }
    }

    /// Makes every pending reminder of the appointment obsolete, its lease dropped.
    static func makeRemindersObsolete(_ db: Database, appointmentID: Int64, now: Int64) throws {
        try db.execute(
            sql: """
                UPDATE notifications SET status = 'obsolete', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
                WHERE appointment_id = ? AND kind = 'reminder' AND status = 'pending'
                """,
            arguments: [now, appointmentID])
    }
}
