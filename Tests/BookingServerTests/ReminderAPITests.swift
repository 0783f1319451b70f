import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BookingServer

@Suite("HTTP API: reminders")
struct ReminderAPITests {
    /// The seed's schedule in UTC with reminders 24 hours and 1 hour before each start.
    private static func schedule() throws -> Schedule {
        try Schedule(timeZone: TimeZone(identifier: "UTC")!, reminderLeads: [.minutes(60), .minutes(1440)])
    }

    @Test(
        "a booking lists its reminders with their due times, a cancel makes them obsolete and raises the sequence",
        arguments: StoreKind.allCases)
    func bookAndCancel(_ kind: StoreKind) async throws {
        try await withAPI(kind, schedule: try Self.schedule()) { client, _ in
            // Booked at 08:00 for the next day at 10:00: both reminders are still ahead.
            let booked = try object(try await client.book(try bookingBody("2027-03-02T10:00:00Z")))
            let id = try #require(booked["id"] as? Int)
            var reminders = try await client.reminders(of: id)
            #expect(reminders.map { $0["lead_minutes"] as? Int } == [1440, 60])
            #expect(
                reminders.map { $0["next_attempt_at"] as? String } == [
                    "2027-03-01T10:00:00.000Z", "2027-03-02T09:00:00.000Z",
                ])
            #expect(reminders.allSatisfy { $0["status"] as? String == "pending" && $0["sequence"] as? Int == 0 })
            let cancelled = try object(
                try await client.execute(uri: "/api/appointments/\(id)/cancel", method: .post, headers: adminHeaders))
            #expect(cancelled["sequence"] as? Int == 1)
            reminders = try await client.reminders(of: id)
            #expect(reminders.map { $0["status"] as? String } == ["obsolete", "obsolete"])
            let all = try await client.notifications(of: id)
            #expect(all.first { $0["kind"] as? String == "booked" }?["lead_minutes"] is NSNull)
            #expect(all.first { $0["kind"] as? String == "cancelled" }?["sequence"] as? Int == 1)
        }
    }

    @Test(
        "a reminder whose moment has passed at booking is not written; a reschedule moves the reminders to the new start",
        arguments: StoreKind.allCases)
    func reschedule(_ kind: StoreKind) async throws {
        try await withAPI(kind, schedule: try Self.schedule()) { client, _ in
            // Booked at 08:00 for 10:00 the same day: only the 1-hour reminder is still ahead.
            let booked = try object(try await client.book(try bookingBody("2027-03-01T10:00:00Z")))
            let id = try #require(booked["id"] as? Int)
            #expect(try await client.reminders(of: id).map { $0["lead_minutes"] as? Int } == [60])
            let moved = try object(
                try await client.reschedule(id, try slotBody("2027-03-03T15:00:00Z"), headers: adminHeaders))
            #expect(moved["sequence"] as? Int == 1)
            let reminders = try await client.reminders(of: id)
            #expect(reminders.map { $0["status"] as? String } == ["obsolete", "pending", "pending"])
            #expect(reminders.map { $0["sequence"] as? Int } == [0, 1, 1])
            #expect(reminders.map { $0["lead_minutes"] as? Int } == [60, 1440, 60])
            #expect(
                reminders.dropFirst().map { $0["next_attempt_at"] as? String } == [
                    "2027-03-02T15:00:00.000Z", "2027-03-03T14:00:00.000Z",
                ])
        }
    }
}

extension TestClientProtocol {
    /// The outbox notifications of one appointment, as the admin lists them.
    func notifications(of id: Int) async throws -> [[String: Any]] {
        let response = try await execute(
            uri: "/api/notifications?appointment_id=\(id)", method: .get, headers: adminHeaders)
        return try #require(try json(response) as? [[String: Any]])
    }

    /// The reminders among them.
    func reminders(of id: Int) async throws -> [[String: Any]] {
        try await notifications(of: id).filter { $0["kind"] as? String == "reminder" }
    }
}
