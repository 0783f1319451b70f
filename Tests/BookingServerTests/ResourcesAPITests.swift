import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BookingServer

@Suite("HTTP API: several resources, each on its own schedule")
struct ResourcesAPITests {
    /// Dr. Lee works around the clock in Auckland (NZDT, UTC+13) in one-hour slots, but not on 2 March 2027,
    /// which is 2027-03-01T11:00Z to 2027-03-02T11:00Z; room B keeps the seed's hours in UTC.
    static func resources() throws -> [ConfiguredResource] {
        let auckland = try Schedule(
            timeZone: TimeZone(identifier: "Pacific/Auckland")!,
            weeklyHours: Schedule.weeklyHours(parsing: "daily=00:00-24:00"),
            overrides: [try LocalDate(parsing: "2027-03-02"): []], slotLength: .minutes(60))
        return [
            ConfiguredResource(id: "dr-lee", name: "Dr. Lee", schedule: auckland),
            ConfiguredResource(
                id: "room-b", name: "Room B", schedule: .standard(in: TimeZone(identifier: "UTC")!),
                timeZoneName: "UTC"),
        ]
    }

    static func booking(_ resource: String, _ start: String, minutes: Int) throws -> ByteBuffer {
        let startDate = try #require(ISO8601.parse(start))
        return try body([
            "slotStart": start, "slotEnd": startDate.addingTimeInterval(Double(minutes) * 60).iso8601WithMilliseconds,
            "name": "Ada Lovelace", "email": "ada@example.com", "resource": resource,
        ])
    }

    @Test("GET /api/resources lists id, name, zone, slot length, capacity and limits in the configured order")
    func listing() async throws {
        try await withAPI(.memory, resources: try Self.resources()) { client, _ in
            let response = try await client.execute(uri: "/api/resources", method: .get)
            #expect(response.status == .ok)
            let listed = try #require(try json(response) as? [[String: Any]])
            #expect(listed.map { $0["id"] as? String } == ["dr-lee", "room-b"])
            #expect(listed.map { $0["name"] as? String } == ["Dr. Lee", "Room B"])
            // As configured, though Foundation on Linux names UTC "GMT"; /api/schedule says the same.
            #expect(listed.map { $0["time_zone"] as? String } == ["Pacific/Auckland", "UTC"])
            #expect(listed.map { $0["slot_minutes"] as? Int } == [60, 30])
            #expect(
                listed.allSatisfy {
                    Set($0.keys) == [
                        "id", "name", "time_zone", "slot_minutes", "capacity", "daily_limit", "weekly_limit",
                    ]
                })
            #expect(listed.map { $0["capacity"] as? Int } == [1, 1])
            #expect(listed.allSatisfy { $0["daily_limit"] is NSNull && $0["weekly_limit"] is NSNull })
            let schedule = try object(try await client.execute(uri: "/api/schedule?resource=dr-lee", method: .get))
            #expect(schedule["time_zone"] as? String == "Pacific/Auckland" && schedule["slot_minutes"] as? Int == 60)
            let room = try object(try await client.execute(uri: "/api/schedule?resource=room-b", method: .get))
            #expect(room["time_zone"] as? String == "UTC")
        }
    }

    @Test(
        "a closed date offers nothing from local midnight to local midnight and refuses a booking (422) while another resource stays open",
        arguments: StoreKind.allCases)
    func closedDate(_ kind: StoreKind) async throws {
        try await withAPI(kind, resources: try Self.resources()) { client, _ in
            // The caller asks in its own zone (UTC-08:00): the closed day is still Auckland's.
            let uri = "/api/availability?resource=dr-lee&from=2027-03-01T00:00:00-08:00&to=2027-03-03T12:00:00Z"
            let slots = try #require(
                try json(try await client.execute(uri: uri, method: .get)) as? [[String: Any]])
            let starts = slots.compactMap { $0["start"] as? String }
            #expect(!starts.isEmpty)
            #expect(
                starts.allSatisfy { $0 < "2027-03-01T11:00:00.000Z" || $0 >= "2027-03-02T11:00:00.000Z" },
                "no slot between Auckland's midnights: \(starts)")
            #expect(
                slots.contains { $0["end"] as? String == "2027-03-01T11:00:00.000Z" },
                "open up to the local midnight before")
            #expect(starts.contains("2027-03-02T11:00:00.000Z"), "open again from the local midnight after")

            let refused = try await client.book(try Self.booking("dr-lee", "2027-03-01T12:00:00Z", minutes: 60))
            try expectError(refused, .unprocessableContent, code: "SLOT_NOT_OFFERED")
            let open = try await client.book(try Self.booking("room-b", "2027-03-01T12:00:00Z", minutes: 30))
            #expect(open.status == .created)
            #expect(try object(open)["resource"] as? String == "room-b")
            let roomSlots = try #require(
                try json(
                    try await client.execute(
                        uri: "/api/availability?resource=room-b&from=2027-03-01T12:00:00Z&to=2027-03-01T13:00:00Z",
                        method: .get)) as? [[String: Any]])
            #expect(roomSlots.map { $0["start"] as? String } == ["2027-03-01T12:30:00.000Z"])

            // The same instant on two resources never conflicts.
            let lee = try await client.book(try Self.booking("dr-lee", "2027-03-02T11:00:00Z", minutes: 60))
            let room = try await client.book(try Self.booking("room-b", "2027-03-02T11:00:00Z", minutes: 30))
            #expect(lee.status == .created && room.status == .created)
            let all = try #require(
                try json(try await client.execute(uri: "/api/appointments", method: .get, headers: adminHeaders))
                    as? [[String: Any]])
            #expect(
                all.map { $0["resource"] as? String }.sorted { ($0 ?? "") < ($1 ?? "") } == [
                    "dr-lee", "room-b", "room-b",
                ])
        }
    }

    @Test("with a resources file, a resource it does not list is 404 on every route, `default` included")
    func unlisted() async throws {
        try await withAPI(.memory, resources: try Self.resources()) { client, _ in
            for uri in [
                "/api/availability", "/api/availability?resource=default", "/api/availability?resource=Dr-Lee",
                "/api/schedule", "/api/schedule?resource=room-c",
            ] {
                try expectError(try await client.execute(uri: uri, method: .get), .notFound, code: "NOT_FOUND")
            }
            for resource in ["default", "room-c"] {
                let response = try await client.book(try Self.booking(resource, "2027-03-01T12:00:00Z", minutes: 30))
                try expectError(response, .notFound, code: "NOT_FOUND")
            }
            try expectError(
                try await client.book(try bookingBody("2027-03-01T12:00:00Z")), .notFound, code: "NOT_FOUND")
            let all = try #require(
                try json(try await client.execute(uri: "/api/appointments", method: .get, headers: adminHeaders))
                    as? [Any])
            #expect(all.isEmpty, "nothing was booked")
        }
    }
}
