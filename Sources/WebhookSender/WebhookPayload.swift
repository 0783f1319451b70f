import BookingDomain
import Foundation

/// The JSON body of a webhook: the notification and its appointment in the API's snake_case shape.
///
/// ```json
/// {"notification_id": 7, "kind": "booked", "attempt": 1, "appointment": {"id": 3, "slot_start": "...", ...}}
/// ```
struct WebhookPayload: Encodable {
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
    }

    let notificationId: Int64
    let kind: String
    let attempt: Int
    let appointment: AppointmentBody

    init(_ delivery: NotificationDelivery) {
        let appointment = delivery.appointment
        notificationId = delivery.notification.id
        kind = delivery.notification.kind.rawValue
        attempt = delivery.notification.attempts
        self.appointment = AppointmentBody(
            id: appointment.id, resource: appointment.resource.rawValue, slotStart: appointment.slot.start,
            slotEnd: appointment.slot.end, customerName: appointment.customerName,
            customerEmail: appointment.customerEmail,
            note: appointment.note, status: appointment.status.rawValue, createdAt: appointment.createdAt,
            updatedAt: appointment.updatedAt, cancelledAt: appointment.cancelledAt)
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
