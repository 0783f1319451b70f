import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The seed's appointment shape (snake_case), plus `resource`, `cancelled_at`, `sequence` (0 when booked,
/// one more after each reschedule) and, once, `cancel_token` (left out, not null, when absent).
struct AppointmentJSON: Encodable {
    let id: Int64
    let slotStart: String
    let slotEnd: String
    let customerName: String
    let customerEmail: String
    let note: Nullable<String>
    let status: String
    let createdAt: String
    let updatedAt: String
    let resource: String
    let cancelledAt: Nullable<String>
    let sequence: Int
    let cancelToken: String?

    enum CodingKeys: String, CodingKey {
        case id, note, status, resource, sequence
        case slotStart = "slot_start"
        case slotEnd = "slot_end"
        case customerName = "customer_name"
        case customerEmail = "customer_email"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case cancelledAt = "cancelled_at"
        case cancelToken = "cancel_token"
    }

    init(_ appointment: Appointment, cancelToken: String? = nil) {
        id = appointment.id
        slotStart = appointment.slot.start.iso8601WithMilliseconds
        slotEnd = appointment.slot.end.iso8601WithMilliseconds
        customerName = appointment.customerName
        customerEmail = appointment.customerEmail
        note = Nullable(appointment.note)
        status = appointment.status.rawValue
        createdAt = appointment.createdAt.iso8601WithMilliseconds
        updatedAt = appointment.updatedAt.iso8601WithMilliseconds
        resource = appointment.resource.rawValue
        cancelledAt = Nullable(appointment.cancelledAt?.iso8601WithMilliseconds)
        sequence = appointment.sequence
        self.cancelToken = cancelToken
    }

    /// A response with this appointment as its JSON body: the bytes `JSONEncoder` writes for it with
    /// `.sortedKeys` and `.withoutEscapingSlashes`, written directly (the booking path's answer; a test compares the two).
    func response(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        Response(status: status, headers: JSONResponse.headers(headers), body: .init(byteBuffer: buffer()))
    }

    /// The JSON text of ``response(status:headers:)``, its members in sorted order.
    func buffer() -> ByteBuffer {
        var object = JSONObjectWriter()
        if let cancelToken { object.member("cancel_token", cancelToken) }
        object.member("cancelled_at", cancelledAt.value)
        object.member("created_at", createdAt)
        object.member("customer_email", customerEmail)
        object.member("customer_name", customerName)
        object.member("id", id)
        object.member("note", note.value)
        object.member("resource", resource)
        object.member("sequence", sequence)
        object.member("slot_end", slotEnd)
        object.member("slot_start", slotStart)
        object.member("status", status)
        object.member("updated_at", updatedAt)
        return object.finish()
    }
}

/// An outbox notification, for the admin.
struct NotificationJSON: Encodable {
    let id: Int64
    let appointmentId: Int64
    let kind: String
    let sequence: Int
    let previousSlotStart: Nullable<String>
    let previousSlotEnd: Nullable<String>
    /// For a reminder: how many minutes before the start it is due (`next_attempt_at` until it is sent).
    let leadMinutes: Nullable<Int64>
    let status: String
    let attempts: Int
    let nextAttemptAt: String
    let error: Nullable<String>
    let createdAt: String
    let updatedAt: String
    let sentAt: Nullable<String>

    enum CodingKeys: String, CodingKey {
        case id, kind, sequence, status, attempts, error
        case appointmentId = "appointment_id"
        case previousSlotStart = "previous_slot_start"
        case previousSlotEnd = "previous_slot_end"
        case leadMinutes = "lead_minutes"
        case nextAttemptAt = "next_attempt_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case sentAt = "sent_at"
    }

    init(_ notification: BookingNotification) {
        id = notification.id
        appointmentId = notification.appointmentID
        kind = notification.kind.rawValue
        sequence = notification.sequence
        previousSlotStart = Nullable(notification.previousSlot?.start.iso8601WithMilliseconds)
        previousSlotEnd = Nullable(notification.previousSlot?.end.iso8601WithMilliseconds)
        leadMinutes = Nullable(notification.reminderLead.map { $0.components.seconds / 60 })
        status = notification.status.rawValue
        attempts = notification.attempts
        nextAttemptAt = notification.nextAttemptAt.iso8601WithMilliseconds
        error = Nullable(notification.lastError)
        createdAt = notification.createdAt.iso8601WithMilliseconds
        updatedAt = notification.updatedAt.iso8601WithMilliseconds
        sentAt = Nullable(notification.sentAt?.iso8601WithMilliseconds)
    }

}

/// What the web page needs to know of a resource's schedule.
struct ScheduleJSON: Encodable {
    let resource: String
    let timeZone: String
    let slotMinutes: Int64
    let daysAhead: Int64
    let minNoticeMinutes: Int64

    enum CodingKeys: String, CodingKey {
        case resource
        case timeZone = "time_zone"
        case slotMinutes = "slot_minutes"
        case daysAhead = "days_ahead"
        case minNoticeMinutes = "min_notice_minutes"
    }

    /// The schedule of `resource`, its zone named `timeZoneName` (as configured).
    init(resource: ResourceID, schedule: Schedule, timeZoneName: String) {
        self.resource = resource.rawValue
        timeZone = timeZoneName
        slotMinutes = schedule.slotLength.components.seconds / 60
        daysAhead = schedule.horizon.components.seconds / 86_400
        minNoticeMinutes = schedule.minimumNotice.components.seconds / 60
    }
}
