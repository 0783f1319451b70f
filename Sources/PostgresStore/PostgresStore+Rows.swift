import BookingDomain
import Foundation
import PostgresNIO

extension PostgresStore {
    static let appointmentColumns = """
        id, resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, note,
        status, cancel_token_hash, idempotency_key, request_fingerprint, created_at, updated_at, cancelled_at,
        sealed_cancel_token, sequence
        """

    /// How many columns ``appointmentColumns`` lists.
    static let appointmentColumnCount = appointmentColumns.split(separator: ",").count

    static let notificationColumns = """
        id, appointment_id, kind, status, attempts, next_attempt_at, lease_owner, lease_expires_at, error,
        created_at, updated_at, sent_at, sequence, previous_slot_start, previous_slot_end, reminder_lead_seconds
        """

    /// What ``prefixedAppointmentColumns`` puts before each column's name.
    static let appointmentPrefix = "a_"

    /// ``appointmentColumns`` of the table aliased `a`, each renamed with ``appointmentPrefix``: for a row
    /// that holds a notification's columns too.
    static let prefixedAppointmentColumns =
        appointmentColumns.split(separator: ",")
        .map { column in
            let name = column.trimmingCharacters(in: .whitespacesAndNewlines)
            return "a.\(name) AS \(appointmentPrefix)\(name)"
        }
        .joined(separator: ", ")

    /// The appointment in `row`, whose columns are ``appointmentColumns``.
    static func record(_ row: PostgresRow) throws -> AppointmentRecord { try record(row, prefix: "") }

    /// The appointment in `row`, whose columns are ``appointmentColumns``, each named with `prefix` before it.
    static func record(_ row: PostgresRow, prefix: String) throws -> AppointmentRecord {
        let cells = row.makeRandomAccess()
        func cell(_ name: String) -> PostgresCell { cells[prefix + name] }
        func instant(_ name: String) throws -> Date { try cell(name).decode(PostgresInstant.self).date }
        guard let resource = ResourceID(rawValue: try cell("resource").decode(String.self)),
            let status = Appointment.Status(rawValue: try cell("status").decode(String.self))
        else { throw BookingError.storeUnavailable("an appointment row could not be read") }
        let appointment = Appointment(
            id: try cell("id").decode(Int64.self), resource: resource,
            slot: try TimeSlot(start: instant("slot_start"), end: instant("slot_end")),
            occupied: try TimeSlot(start: instant("occupied_start"), end: instant("occupied_end")),
            customerName: try cell("customer_name").decode(String.self),
            customerEmail: try cell("customer_email").decode(String.self),
            note: try cell("note").decode(String?.self),
            status: status, createdAt: try instant("created_at"), updatedAt: try instant("updated_at"),
            cancelledAt: try cell("cancelled_at").decode(PostgresInstant?.self)?.date,
            sequence: try cell("sequence").decode(Int.self))
        return AppointmentRecord(
            appointment: appointment, cancelTokenHash: try cell("cancel_token_hash").decode(String.self),
            idempotencyKey: try cell("idempotency_key").decode(String?.self),
            requestFingerprint: try cell("request_fingerprint").decode(String.self),
            sealedCancelToken: try cell("sealed_cancel_token").decode(String?.self))
    }

    static func notification(_ row: PostgresRow) throws -> BookingNotification {
        let cells = row.makeRandomAccess()
        guard let kind = BookingNotification.Kind(rawValue: try cells["kind"].decode(String.self)),
            let status = BookingNotification.Status(rawValue: try cells["status"].decode(String.self))
        else { throw BookingError.storeUnavailable("a notification row could not be read") }
        var previousSlot: TimeSlot?
        if let start = try cells["previous_slot_start"].decode(PostgresInstant?.self),
            let end = try cells["previous_slot_end"].decode(PostgresInstant?.self)
        {
            previousSlot = try TimeSlot(start: start.date, end: end.date)
        }
        return BookingNotification(
            id: try cells["id"].decode(Int64.self), appointmentID: try cells["appointment_id"].decode(Int64.self),
            kind: kind,
            status: status, attempts: try cells["attempts"].decode(Int.self),
            nextAttemptAt: try cells["next_attempt_at"].decode(PostgresInstant.self).date,
            leaseOwner: try cells["lease_owner"].decode(String?.self),
            leaseExpiresAt: try cells["lease_expires_at"].decode(PostgresInstant?.self)?.date,
            lastError: try cells["error"].decode(String?.self),
            createdAt: try cells["created_at"].decode(PostgresInstant.self).date,
            updatedAt: try cells["updated_at"].decode(PostgresInstant.self).date,
            sentAt: try cells["sent_at"].decode(PostgresInstant?.self)?.date,
            sequence: try cells["sequence"].decode(Int.self), previousSlot: previousSlot,
            reminderLead: kind == .reminder ? .seconds(try cells["reminder_lead_seconds"].decode(Int64.self)) : nil)
    }

    static func records(_ rows: PostgresRowSequence) async throws -> [AppointmentRecord] {
        var result: [AppointmentRecord] = []
        for try await row in rows { result.append(try record(row)) }
        return result
    }

    static func notifications(_ rows: PostgresRowSequence) async throws -> [BookingNotification] {
        var result: [BookingNotification] = []
        for try await row in rows { result.append(try notification(row)) }
        return result
    }

    /// The leads (in seconds) and due times of `reminders`, bound as two arrays that `unnest` pairs up again.
    static func reminderArrays(_ reminders: [ScheduledReminder]) -> (leads: [Int64], dues: [PostgresInstant]) {
        (reminders.map { $0.lead.components.seconds }, reminders.map { PostgresInstant($0.dueAt) })
    }
}
