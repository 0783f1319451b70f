import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BookingServer

@Suite("HTTP API: capacity and booking limits")
struct CapacityAPITests {
    static let utc = TimeZone(identifier: "UTC")!

    @Test(
        "capacity 3: a slot takes three bookings then 409 SLOT_UNAVAILABLE, seats_left counts down, a cancel frees a seat",
        arguments: StoreKind.allCases)
    func capacity(_ kind: StoreKind) async throws {
        let schedule = try Schedule(timeZone: Self.utc, capacity: 3)
        try await withAPI(kind, schedule: schedule) { client, _ in
            let window = ("2027-03-01T10:00:00Z", "2027-03-01T11:00:00Z")
            #expect(try await client.seats(from: window.0, to: window.1) == [3, 3])
            var tokens: [(id: Int, token: String)] = []
            for (index, email) in ["ada@example.com", "bob@example.com", "cy@example.com"].enumerated() {
                let response = try await client.book(try bookingBody(email: email))
                #expect(response.status == .created, "body: \(String(buffer: response.body))")
                let appointment = try object(response)
                tokens.append(
                    (try #require(appointment["id"] as? Int), try #require(appointment["cancel_token"] as? String)))
                let left = 3 - (index + 1)
                #expect(
                    try await client.seats(from: window.0, to: window.1) == (left > 0 ? [left, 3] : [3]),
                    "after \(index + 1) bookings")
            }
            try expectError(
                try await client.book(try bookingBody(email: "dee@example.com")), .conflict, code: "SLOT_UNAVAILABLE")
            let all = try #require(
                try json(try await client.execute(uri: "/api/appointments", method: .get, headers: adminHeaders))
                    as? [[String: Any]])
            #expect(all.count == 3 && all.allSatisfy { $0["slot_start"] as? String == "2027-03-01T10:00:00.000Z" })

            let cancelled = try await client.execute(
                uri: "/api/appointments/\(tokens[1].id)/cancel", method: .post, headers: [.cancelToken: tokens[1].token]
            )
            #expect(cancelled.status == .ok)
            #expect(try await client.seats(from: window.0, to: window.1) == [1, 3], "the cancel freed one seat")
            #expect(try await client.book(try bookingBody(email: "dee@example.com")).status == .created)
            try expectError(
                try await client.book(try bookingBody(email: "eve@example.com")), .conflict, code: "SLOT_UNAVAILABLE")
        }
    }

    @Test(
        "with capacity, a different slot whose occupied interval overlaps a taken one still conflicts",
        arguments: StoreKind.allCases)
    func overlappingSlotsConflict(_ kind: StoreKind) async throws {
        // 10:00 with 15-minute buffers occupies 09:45-10:45; 10:30 occupies 10:15-11:15.
        let schedule = try Schedule(
            timeZone: Self.utc, bufferBefore: .minutes(15), bufferAfter: .minutes(15), capacity: 3)
        try await withAPI(kind, schedule: schedule) { client, _ in
            #expect(try await client.book(try bookingBody()).status == .created)
            #expect(
                try await client.freeStarts(from: "2027-03-01T09:00:00Z", to: "2027-03-01T11:30:00Z") == [
                    "2027-03-01T09:00:00.000Z", "2027-03-01T10:00:00.000Z", "2027-03-01T11:00:00.000Z",
                ], "09:30 and 10:30 overlap the booked 10:00; 10:00 itself has two seats left")
            try expectError(
                try await client.book(try bookingBody("2027-03-01T10:30:00Z", email: "bob@example.com")), .conflict,
                code: "SLOT_UNAVAILABLE")
            #expect(try await client.book(try bookingBody(email: "bob@example.com")).status == .created)
        }
    }

    @Test(
        "the same email twice in one slot is 409 ALREADY_BOOKED, ignoring case; another slot or a cancelled seat is fine",
        arguments: StoreKind.allCases)
    func sameEmailTwice(_ kind: StoreKind) async throws {
        let schedule = try Schedule(timeZone: Self.utc, capacity: 3)
        try await withAPI(kind, schedule: schedule) { client, _ in
            let first = try object(try await client.book(try bookingBody()))
            let refused = try await client.book(try bookingBody(email: "ADA@Example.com"))
            let error = try expectError(refused, .conflict, code: "ALREADY_BOOKED")
            #expect(error["detail"] as? String == "This email already has a booking in that slot.")
            #expect(try await client.seats(from: "2027-03-01T10:00:00Z", to: "2027-03-01T10:30:00Z") == [2])
            #expect(try await client.book(try bookingBody("2027-03-01T11:00:00Z")).status == .created)
            let id = try #require(first["id"] as? Int)
            _ = try await client.execute(uri: "/api/appointments/\(id)/cancel", method: .post, headers: adminHeaders)
            #expect(try await client.book(try bookingBody(email: "ADA@Example.com")).status == .created)
        }
    }

    @Test(
        "a daily limit of 2: the third booking that day is 409 BOOKING_LIMIT_REACHED, availability hides the day, a cancel reopens it, a move within the day is allowed",
        arguments: StoreKind.allCases)
    func dailyLimit(_ kind: StoreKind) async throws {
        let schedule = try Schedule(timeZone: Self.utc, dailyLimit: 2)
        try await withAPI(kind, schedule: schedule) { client, _ in
            let monday = ("2027-03-01T00:00:00Z", "2027-03-02T00:00:00Z")
            let first = try object(try await client.book(try bookingBody("2027-03-01T10:00:00Z")))
            #expect(try await client.freeStarts(from: monday.0, to: monday.1).count == 15, "one of two taken")
            #expect(try await client.book(try bookingBody("2027-03-01T11:00:00Z")).status == .created)
            #expect(try await client.freeStarts(from: monday.0, to: monday.1) == [], "the day is full")
            #expect(
                try await client.freeStarts(from: "2027-03-02T00:00:00Z", to: "2027-03-03T00:00:00Z").count == 16,
                "the next day is open")
            let refused = try expectError(
                try await client.book(try bookingBody("2027-03-01T12:00:00Z")), .conflict,
                code: "BOOKING_LIMIT_REACHED")
            #expect(refused["detail"] as? String == "No more bookings can be taken that day.")

            let id = try #require(first["id"] as? Int)
            let moved = try await client.reschedule(id, try slotBody("2027-03-01T14:00:00Z"), headers: adminHeaders)
            #expect(moved.status == .ok, "a move within the full day counts once: \(String(buffer: moved.body))")
            #expect(try object(moved)["slot_start"] as? String == "2027-03-01T14:00:00.000Z")

            _ = try await client.execute(uri: "/api/appointments/\(id)/cancel", method: .post, headers: adminHeaders)
            #expect(
                try await client.freeStarts(from: monday.0, to: monday.1).count == 15, "the cancel reopened the day")
            #expect(try await client.book(try bookingBody("2027-03-01T12:00:00Z")).status == .created)
            try expectError(
                try await client.book(try bookingBody("2027-03-01T15:00:00Z")), .conflict,
                code: "BOOKING_LIMIT_REACHED")

            // Moving a booking of another day into the full day is refused.
            let tuesday = try #require(
                try object(try await client.book(try bookingBody("2027-03-02T10:00:00Z")))["id"] as? Int)
            try expectError(
                try await client.reschedule(tuesday, try slotBody("2027-03-01T15:00:00Z"), headers: adminHeaders),
                .conflict, code: "BOOKING_LIMIT_REACHED")
        }
    }

    @Test(
        "a weekly limit counts the ISO week: once full, the rest of the week is hidden and refused, the next week open",
        arguments: StoreKind.allCases)
    func weeklyLimit(_ kind: StoreKind) async throws {
        let schedule = try Schedule(timeZone: Self.utc, horizon: .seconds(14 * 86_400), weeklyLimit: 3)
        try await withAPI(kind, schedule: schedule) { client, _ in
            for day in ["2027-03-01", "2027-03-02", "2027-03-03"] {
                #expect(try await client.book(try bookingBody("\(day)T10:00:00Z")).status == .created)
            }
            #expect(try await client.freeStarts(from: "2027-03-01T00:00:00Z", to: "2027-03-08T00:00:00Z") == [])
            let refused = try expectError(
                try await client.book(try bookingBody("2027-03-07T16:30:00Z")), .conflict,
                code: "BOOKING_LIMIT_REACHED")
            #expect(refused["detail"] as? String == "No more bookings can be taken that week.")
            #expect(
                try await client.freeStarts(from: "2027-03-08T00:00:00Z", to: "2027-03-09T00:00:00Z").count == 16,
                "Monday starts a new ISO week")
            #expect(try await client.book(try bookingBody("2027-03-08T09:00:00Z")).status == .created)
        }
    }

    @Test(
        "a daily limit counts the local day of the resource's zone, not UTC's",
        arguments: StoreKind.allCases)
    func limitInTheResourceZone(_ kind: StoreKind) async throws {
        // New York is UTC-5 in early March 2027: its Monday ends at 2027-03-02T05:00Z.
        let schedule = try Schedule(
            timeZone: TimeZone(identifier: "America/New_York")!,
            weeklyHours: Schedule.weeklyHours(parsing: "daily=00:00-24:00"), dailyLimit: 1)
        try await withAPI(kind, schedule: schedule) { client, _ in
            #expect(try await client.book(try bookingBody("2027-03-02T03:00:00Z")).status == .created)
            try expectError(
                try await client.book(try bookingBody("2027-03-02T04:30:00Z")), .conflict,
                code: "BOOKING_LIMIT_REACHED")
            #expect(
                try await client.freeStarts(from: "2027-03-01T12:00:00Z", to: "2027-03-02T06:00:00Z") == [
                    "2027-03-02T05:00:00.000Z", "2027-03-02T05:30:00.000Z",
                ], "only the next local day is open")
            #expect(try await client.book(try bookingBody("2027-03-02T05:00:00Z")).status == .created)
        }
    }

    @Test("GET /api/resources shows each resource's capacity and limits, null for none")
    func resourcesListing() async throws {
        let resources = [
            ConfiguredResource(
                id: "class", name: "Yoga class",
                schedule: try Schedule(timeZone: Self.utc, capacity: 12, dailyLimit: 24, weeklyLimit: 100)),
            ConfiguredResource(id: "dr-lee", name: "Dr. Lee", schedule: .standard(in: Self.utc)),
        ]
        try await withAPI(.memory, resources: resources) { client, _ in
            let listed = try #require(
                try json(try await client.execute(uri: "/api/resources", method: .get)) as? [[String: Any]])
            #expect(listed.map { $0["capacity"] as? Int } == [12, 1])
            #expect(listed[0]["daily_limit"] as? Int == 24 && listed[0]["weekly_limit"] as? Int == 100)
            #expect(listed[1]["daily_limit"] is NSNull && listed[1]["weekly_limit"] is NSNull)
            let slots = try #require(
                try json(try await client.execute(uri: "/api/availability?resource=class", method: .get))
                    as? [[String: Any]])
            #expect(!slots.isEmpty && slots.allSatisfy { $0["seats_left"] as? Int == 12 })
        }
    }
}
