import Foundation
import Testing

@testable import BookingDomain

@Suite("when a notification fell due: what booking_notification_delivery_seconds counts from")
struct DeliveryDueTests {
    let written = Date(timeIntervalSince1970: 1_830_000_000)

    func delivery(_ kind: BookingNotification.Kind, lead: Duration?, slotIn hours: Double) throws
        -> NotificationDelivery
    {
        let start = written.addingTimeInterval(hours * 3600)
        let slot = try TimeSlot(start: start, end: start.addingTimeInterval(1800))
        let appointment = Appointment(
            id: 1, resource: .default, slot: slot, occupied: slot, customerName: "Ada",
            customerEmail: "ada@example.com",
            note: nil, status: .booked, createdAt: written, updatedAt: written, cancelledAt: nil)
        let notification = BookingNotification(
            id: 1, appointmentID: 1, kind: kind, status: .pending, attempts: 1, nextAttemptAt: written,
            leaseOwner: nil, leaseExpiresAt: nil, lastError: nil, createdAt: written, updatedAt: written, sentAt: nil,
            reminderLead: lead)
        return NotificationDelivery(notification: notification, appointment: appointment)
    }

    @Test("a reminder fell due its lead before the slot, not when the booking wrote it a day earlier")
    func reminder() throws {
        let due = try delivery(.reminder, lead: .seconds(3600), slotIn: 24).dueSince
        #expect(due == written.addingTimeInterval(23 * 3600))
    }

    @Test("a reminder whose lead reaches back before it was written fell due when it was written")
    func reminderWrittenLate() throws {
        #expect(try delivery(.reminder, lead: .seconds(7200), slotIn: 1).dueSince == written)
    }

    @Test(
        "a booked, cancelled or rescheduled notification fell due when it was written",
        arguments: [
            BookingNotification.Kind.booked, .cancelled, .rescheduled,
        ])
    func others(_ kind: BookingNotification.Kind) throws {
        #expect(try delivery(kind, lead: nil, slotIn: 24).dueSince == written)
    }
}
