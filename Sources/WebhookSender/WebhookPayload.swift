import BookingDomain
import Foundation

/// The JSON body of a webhook: the notification and its appointment in the API's snake_case shape.
///
/// ```json
/// {"notification_id": 7, "kind": "rescheduled", "sequence": 1, "attempt": 1,
///  "previous_slot": {"start": "...", "end": "..."}, "appointment": {"id": 3, "slot_start": "...", "sequence": 1, ...}}
/// {"notification_id": 9, "kind": "reminder", "sequence": 1, "lead_minutes": 60, "attempt": 1, "appointment": {...}}
/// ```
///
/// `sequence` is the appointment's sequence the notification belongs to (0 for `booked`, the move's for
/// `rescheduled`, the cancel's for `cancelled`, that of the slot it reminds of for `reminder`); `previous_slot`
/// is the slot a `rescheduled` appointment left and `lead_minutes` how long before the start a `reminder` is
/// sent (each absent for other kinds).
/// `calendar` is the appointment's iCalendar file when the sender's configuration makes one (absent otherwise). The
/// appointment has every field the API writes, `note` and `cancelled_at` `null` when empty.
/// The appointment is read when the notification is claimed for this send (again just before it for a reminder
/// and for a send starting more than a second after the claim), so it shows its state then.
struct WebhookPayload: Encodable {
    struct SlotBody: Encodable {
        let start: Date
        let end: Date
    }

    struct AppointmentBody: Encodable {
        let id: Int64
        let resource: String
        let slotStart: Date
        let slotEnd: Date
        let customerName: String
        let customerEmail: String
        let note: String?
        let status: String
        let createdAt: Date
        let updatedAt: Date
        let cancelledAt: Date?
        let sequence: Int

        /// Every field, `note` and `cancelled_at` as `null` when empty, as the API writes an appointment.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(resource, forKey: .resource)
            try container.encode(slotStart, forKey: .slotStart)
            try container.encode(slotEnd, forKey: .slotEnd)
            try container.encode(customerName, forKey: .customerName)
            try container.encode(customerEmail, forKey: .customerEmail)
            try container.encode(note, forKey: .note)
            try container.encode(status, forKey: .status)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(updatedAt, forKey: .updatedAt)
            try container.encode(cancelledAt, forKey: .cancelledAt)
            try container.encode(sequence, forKey: .sequence)
        }

        private enum CodingKeys: String, CodingKey {
            case id, resource, slotStart, slotEnd, customerName, customerEmail, note, status, createdAt, updatedAt
            case cancelledAt, sequence
        }
    }

    let notificationId: Int64
    let kind: String
    let sequence: Int
    let previousSlot: SlotBody?
    let leadMinutes: Int64?
    let attempt: Int
    let appointment: AppointmentBody
    let calendar: String?

    init(_ delivery: NotificationDelivery, calendar: String?) {
        let appointment = delivery.appointment
        notificationId = delivery.notification.id
        kind = delivery.notification.kind.rawValue
        sequence = delivery.notification.sequence
        previousSlot = delivery.notification.previousSlot.map { SlotBody(start: $0.start, end: $0.end) }
        leadMinutes = delivery.notification.reminderLead.map { $0.components.seconds / 60 }
        attempt = delivery.notification.attempts
        self.appointment = AppointmentBody(
            id: appointment.id, resource: appointment.resource.rawValue, slotStart: appointment.slot.start,
            slotEnd: appointment.slot.end, customerName: appointment.customerName,
            customerEmail: appointment.customerEmail,
            note: appointment.note, status: appointment.status.rawValue, createdAt: appointment.createdAt,
            updatedAt: appointment.updatedAt, cancelledAt: appointment.cancelledAt, sequence: appointment.sequence)
        self.calendar = calendar
    }

    /// The body's bytes: snake_case keys, sorted, ISO 8601 instants with milliseconds in UTC.
    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.iso8601WithMilliseconds)
        }
        return try encoder.encode(self)
    }
}
