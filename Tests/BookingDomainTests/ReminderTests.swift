import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Logging
import Testing

@Suite("reminders")
struct ReminderTests {
    let clock = ManualWallClock(now: instant("2027-03-01T08:00:00Z"))
    let store = InMemoryStore()

    var service: BookingService {
        get throws {
            let schedule = try Schedule(timeZone: zone("UTC"), reminderLeads: [.minutes(60), .minutes(1440)])
            return BookingService(store: store, configuration: .init(defaultSchedule: schedule), clock: clock)
        }
    }

    func book(_ start: String) async throws -> Appointment {
        let slotStart = instant(start)
        return try await service.book(
            BookingRequest(
                slotStart: slotStart, slotEnd: slotStart.addingTimeInterval(1800), name: "Ada", email: "ada@example.com"
            )
        ).appointment
    }

    func reminders(of id: Int64) async throws -> [BookingNotification] {
        try await service.notifications(appointmentID: id).filter { $0.kind == .reminder }
    }

    @Test(
        "a schedule refuses reminder leads that are not whole minutes from 1 minute to 366 days, repeat, or are more than 20",
        arguments: [
            [Duration.seconds(90)], [.zero], [.seconds(367 * 86_400)], [.minutes(60), .minutes(60)],
            (1...21).map { Duration.minutes($0) },
        ])
    func badLeads(_ leads: [Duration]) {
        let error = #expect(throws: BookingError.self) { try Schedule(timeZone: zone("UTC"), reminderLeads: leads) }
        #expect(error?.code == .invalidInput)
        #expect(error?.fieldErrors["reminderLeads"] != nil, "\(String(describing: error))")
    }

    @Test("twenty reminder leads are allowed")
    func twentyLeads() throws {
        #expect(
            try Schedule(timeZone: zone("UTC"), reminderLeads: (1...20).map { .minutes($0) }).reminderLeads.count == 20)
    }

    @Test("the service writes a reminder for each lead whose moment is still ahead by its clock, longest first")
    func dueFromTheClock() async throws {
        let tomorrow = try await book("2027-03-02T10:00:00Z")
        #expect(try await reminders(of: tomorrow.id).map(\.reminderLead) == [.minutes(1440), .minutes(60)])
        #expect(
            try await reminders(of: tomorrow.id).map(\.nextAttemptAt) == [
                instant("2027-03-01T10:00:00Z"), instant("2027-03-02T09:00:00Z"),
            ])
        let today = try await book("2027-03-01T10:00:00Z")
        #expect(try await reminders(of: today.id).map(\.reminderLead) == [.minutes(60)])
        clock.set(to: instant("2027-03-01T09:00:00Z"))
        let soon = try await book("2027-03-01T09:30:00Z")
        #expect(try await reminders(of: soon.id).isEmpty, "09:30 booked at 09:00: both moments have passed")
    }

    @Test("a move writes the new slot's reminders with the move's sequence; the old pending ones become obsolete")
    func moveReplacesReminders() async throws {
        let booked = try await book("2027-03-02T10:00:00Z")
        let target = try TimeSlot(start: instant("2027-03-01T12:00:00Z"), end: instant("2027-03-01T12:30:00Z"))
        let moved = try await service.reschedule(id: booked.id, to: target, authorization: .admin).appointment
        let reminders = try await reminders(of: booked.id)
        #expect(reminders.map(\.status) == [.obsolete, .obsolete, .pending])
        #expect(reminders.last?.sequence == moved.sequence)
        #expect(reminders.last?.nextAttemptAt == instant("2027-03-01T11:00:00Z"))
    }

    @Test("the dispatcher records obsolete, unsent, a retried reminder of an appointment that moved since")
    func dispatcherSkipsAMovedAppointment() async throws {
        let booked = try await book("2027-03-02T10:00:00Z")
        clock.set(to: instant("2027-03-01T10:00:00Z"))
        let failing = RecordingNotificationSender { delivery, _ in
            delivery.notification.kind == .reminder ? .permanent("HTTP 410 Gone") : nil
        }
        let logger = Logger(label: "reminder-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        _ = try await NotificationDispatcher(store: store, sender: failing, clock: clock, logger: logger).drain()
        let failed = try #require(try await reminders(of: booked.id).first)
        #expect(failed.status == .failed)
        let target = try TimeSlot(start: instant("2027-03-03T10:00:00Z"), end: instant("2027-03-03T10:30:00Z"))
        _ = try await service.reschedule(id: booked.id, to: target, authorization: .admin)
        _ = try await service.retryNotification(id: failed.id)
        let sender = RecordingNotificationSender()
        let report = try await NotificationDispatcher(store: store, sender: sender, clock: clock, logger: logger)
            .drain()
        #expect(report.obsolete == 1)
        #expect(!sender.delivered.contains { $0.notification.kind == .reminder })
        let stored = try await reminders(of: booked.id).first { $0.id == failed.id }
        #expect(stored?.status == .obsolete)
        #expect(stored?.attempts == 0, "an obsolete reminder counts no attempt")
    }

    @Test("a reminder delivered only after the appointment started (an outage, long retries) is obsolete, never sent")
    func noReminderAfterTheStart() async throws {
        let booked = try await book("2027-03-02T10:00:00Z")
        clock.set(to: instant("2027-03-02T10:05:00Z"))  // both reminders are due, and the appointment began
        let sender = RecordingNotificationSender()
        let logger = Logger(label: "reminder-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let report = try await NotificationDispatcher(store: store, sender: sender, clock: clock, logger: logger)
            .drain()
        #expect(report.obsolete == 2)
        #expect(sender.delivered.map(\.notification.kind) == [.booked])
        #expect(try await reminders(of: booked.id).allSatisfy { $0.status == .obsolete })
    }
}
