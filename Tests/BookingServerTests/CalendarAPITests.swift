import BookingDomain
import BookingTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemoryLogging
import Logging
import NIOCore
import Testing

@testable import BookingServer

/// The calendar feed secret of these tests.
let feedSecret = "feed-secret-0123456789abcdef"

@Suite("HTTP API: calendar files and feeds (RFC 5545, RFC 5546)")
struct CalendarAPITests {
    /// The unfolded content lines of a calendar file, after checking that every line ends in CRLF.
    func lines(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        let text = String(buffer: response.body)
        #expect(text.hasSuffix("\r\n"), sourceLocation: sourceLocation)
        #expect(
            !text.replacingOccurrences(of: "\r\n", with: "").contains { $0 == "\n" || $0 == "\r" },
            "a bare line break", sourceLocation: sourceLocation)
        return text.replacingOccurrences(of: "\r\n ", with: "").split(separator: "\r\n").map(String.init)
    }

    /// The value of the first `name` property of a calendar file.
    func value(_ name: String, in lines: [String]) -> String? {
        lines.first { $0.hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)) }
    }

    /// The `UID` line of the appointment `booked` (a booking's answer): its id and creation in milliseconds.
    func uidLine(of booked: [String: Any]) throws -> String {
        let id = try #require(booked["id"] as? Int)
        let created = try #require((booked["created_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
        return "UID:appointment-\(id)-\(created.millisecondsSince1970)@booking.example.com"
    }

    func calendar(_ client: any TestClientProtocol, _ id: Int, headers: HTTPFields) async throws -> TestResponse {
        try await client.execute(uri: "/api/appointments/\(id)/calendar.ics", method: .get, headers: headers)
    }

    @Test(
        "an appointment's file is a REQUEST with one VEVENT: stable UID, SEQUENCE, UTC times, the resource's name",
        arguments: StoreKind.allCases)
    func appointmentFile(_ kind: StoreKind) async throws {
        let resources = [
            ConfiguredResource(
                id: .default, name: "Dr. Lee; room 2", schedule: .standard(in: TimeZone(identifier: "UTC")!))
        ]
        try await withAPI(kind, resources: resources) { client, clock in
            let booked = try object(try await client.book(try bookingBody()))
            let id = try #require(booked["id"] as? Int)
            let token = try #require(booked["cancel_token"] as? String)
            clock.advance(by: .seconds(90))
            for headers in [[.cancelToken: token], adminHeaders] as [HTTPFields] {
                let response = try await calendar(client, id, headers: headers)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/calendar; charset=utf-8; method=REQUEST")
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(response.headers[.contentDisposition] == "attachment; filename=\"appointment-\(id).ics\"")
                let file = lines(response)
                #expect(
                    Array(file.prefix(5)) == [
                        "BEGIN:VCALENDAR", "VERSION:2.0", file[2], "CALSCALE:GREGORIAN", "METHOD:REQUEST",
                    ])
                #expect(file[2].hasPrefix("PRODID:"))
                #expect(file.filter { $0 == "BEGIN:VEVENT" }.count == 1 && file.last == "END:VCALENDAR")
                #expect(try "UID:" + #require(value("UID", in: file)) == uidLine(of: booked))
                #expect(value("DTSTAMP", in: file) == "20270301T080130Z", "now, in UTC")
                #expect(value("SEQUENCE", in: file) == "0")
                #expect(value("DTSTART", in: file) == "20270301T100000Z")
                #expect(value("DTEND", in: file) == "20270301T103000Z")
                #expect(value("SUMMARY", in: file) == #"Appointment: Dr. Lee\; room 2"#)
                #expect(value("STATUS", in: file) == "CONFIRMED")
            }
        }
    }

    @Test(
        "the UID stays across a reschedule and a cancel; SEQUENCE follows the appointment's; a cancel is a CANCEL",
        arguments: StoreKind.allCases)
    func lifecycle(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let booked = try object(try await client.book(try bookingBody()))
            let id = try #require(booked["id"] as? Int)
            let token = try #require(booked["cancel_token"] as? String)
            let headers: HTTPFields = [.cancelToken: token]
            let first = lines(try await calendar(client, id, headers: headers))
            let moved = try object(
                try await client.reschedule(id, try slotBody("2027-03-01T11:00:00Z"), headers: headers))
            let sequence = try #require(moved["sequence"] as? Int)
            let second = lines(try await calendar(client, id, headers: headers))
            #expect(value("UID", in: second) == value("UID", in: first))
            #expect(value("SEQUENCE", in: second) == String(sequence) && sequence == 1)
            #expect(value("DTSTART", in: second) == "20270301T110000Z")
            #expect(value("DTEND", in: second) == "20270301T113000Z")

            let cancelled = try object(
                try await client.execute(uri: "/api/appointments/\(id)/cancel", method: .post, headers: headers))
            let response = try await calendar(client, id, headers: headers)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/calendar; charset=utf-8; method=CANCEL")
            let third = lines(response)
            #expect(value("METHOD", in: third) == "CANCEL")
            #expect(value("STATUS", in: third) == "CANCELLED")
            #expect(value("UID", in: third) == value("UID", in: first))
            // Whatever a cancel does to the sequence, the file says what the appointment says.
            #expect(value("SEQUENCE", in: third) == String(try #require(cancelled["sequence"] as? Int)))
        }
    }

    @Test(
        "an appointment's file needs its token or the admin: 401 without, 403 for a wrong token or admin token, 404 for an unknown id, 400 for a bad id",
        arguments: StoreKind.allCases)
    func appointmentFileAuthorization(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let id = try #require(try object(try await client.book(try bookingBody()))["id"] as? Int)
            try expectError(try await calendar(client, id, headers: [:]), .unauthorized, code: "UNAUTHORIZED")
            let wrong = try await calendar(client, id, headers: [.cancelToken: "guess"])
            let unknown = try await calendar(client, id + 1000, headers: [.cancelToken: "guess"])
            try expectError(wrong, .forbidden, code: "FORBIDDEN")
            try expectError(unknown, .notFound, code: "NOT_FOUND")
            try expectError(
                try await calendar(client, id, headers: [.authorization: "Bearer wrong-admin-token-0123"]), .forbidden)
            try expectError(
                try await client.execute(uri: "/api/appointments/x/calendar.ics", method: .get, headers: adminHeaders),
                .badRequest)
            try expectError(
                try await client.execute(
                    uri: "/api/appointments/\(id)/calendar.ics?token=guess", method: .get), .unauthorized,
                code: "UNAUTHORIZED")
        }
    }

    @Test(
        "a resource's feed lists all its appointments (cancelled ones CANCELLED), no METHOD, for the feed secret or the admin, by header or path",
        arguments: StoreKind.allCases)
    func feed(_ kind: StoreKind) async throws {
        try await withAPI(kind, resources: try ResourcesAPITests.resources(), calendarFeedSecret: feedSecret) {
            client, _ in
            let first = try object(
                try await client.book(try ResourcesAPITests.booking("room-b", "2027-03-01T10:00:00Z", minutes: 30)))
            let second = try object(
                try await client.book(try ResourcesAPITests.booking("room-b", "2027-03-01T11:00:00Z", minutes: 30)))
            _ = try object(
                try await client.book(try ResourcesAPITests.booking("dr-lee", "2027-03-01T09:00:00Z", minutes: 60)))
            let secondID = try #require(second["id"] as? Int)
            _ = try await client.execute(
                uri: "/api/appointments/\(secondID)/cancel", method: .post, headers: adminHeaders)

            for (uri, headers) in [
                ("/api/resources/room-b/calendar.ics", [.authorization: "Bearer \(feedSecret)"]),
                ("/api/resources/room-b/calendar.ics", adminHeaders),
                ("/api/resources/room-b/calendar/\(feedSecret).ics", [:]),
            ] as [(String, HTTPFields)] {
                let response = try await client.execute(uri: uri, method: .get, headers: headers)
                #expect(response.status == .ok, "\(uri)")
                #expect(response.headers[.contentType] == "text/calendar; charset=utf-8")
                #expect(response.headers[.cacheControl] == "private, no-cache")
                let file = lines(response)
                #expect(!file.contains { $0.hasPrefix("METHOD") })
                #expect(value("X-WR-CALNAME", in: file) == "Room B")
                #expect(
                    try file.filter { $0.hasPrefix("UID:") } == [uidLine(of: first), uidLine(of: second)],
                    "room B's appointments only, the cancelled one included")
                #expect(file.filter { $0.hasPrefix("STATUS:") } == ["STATUS:CONFIRMED", "STATUS:CANCELLED"])
                #expect(value("SUMMARY", in: file) == "Ada Lovelace (Room B)")
                #expect(value("DESCRIPTION", in: file) == "ada@example.com")
            }
        }
    }

    @Test(
        "a feed reaches --calendar-feed-past-days back: an appointment that started earlier drops out; an empty feed is a valid calendar; no directional control reaches it",
        arguments: StoreKind.allCases)
    func feedWindow(_ kind: StoreKind) async throws {
        try await withAPI(kind, calendarFeedSecret: feedSecret, calendarFeedPastDays: 1) { client, clock in
            let uri = "/api/resources/default/calendar/\(feedSecret).ics"
            let empty = lines(try await client.execute(uri: uri, method: .get))
            #expect(!empty.contains("BEGIN:VEVENT"))
            #expect(
                Array(empty.drop { $0 != "BEGIN:VTIMEZONE" }.prefix(4)) == [
                    "BEGIN:VTIMEZONE", "TZID:UTC", "BEGIN:STANDARD", "DTSTART:19700101T000000",
                ], "a calendar holds at least one component (RFC 5545 section 3.6)")
            let reversing = try body([
                "slotStart": "2027-03-01T09:00:00.000Z", "slotEnd": "2027-03-01T09:30:00.000Z", "name": "Ada \u{202E}",
                "email": "ada@example.com", "note": "left \u{2067}open\nand \u{202E}reversed",
            ])
            let early = try uidLine(of: try object(try await client.book(reversing)))
            let late = try uidLine(of: try object(try await client.book(try bookingBody("2027-03-03T09:00:00Z"))))
            func uids() async throws -> [String] {
                lines(try await client.execute(uri: uri, method: .get)).filter { $0.hasPrefix("UID:") }
            }
            let both = lines(try await client.execute(uri: uri, method: .get))
            #expect(!both.contains("BEGIN:VTIMEZONE"), "events are in UTC: no zone is needed once there is one")
            #expect(
                value("SUMMARY", in: both) == "Ada  (default)",
                "the name's open right-to-left override is dropped, so it cannot reverse the resource's name")
            #expect(
                value("DESCRIPTION", in: both) == #"ada@example.com\nleft open\nand reversed"#,
                "so are the note's, in the description")
            #expect(try await uids() == [early, late])
            // 09:00 on March 1 started a day and a minute ago: out of a one-day feed.
            clock.advance(by: .seconds(86_400 + 3_660))
            #expect(try await uids() == [late])
        }
    }

    @Test(
        "the feed's ETag answers a matching If-None-Match with 304 and changes when an appointment does",
        arguments: StoreKind.allCases)
    func etag(_ kind: StoreKind) async throws {
        try await withAPI(kind, calendarFeedSecret: feedSecret) { client, clock in
            let uri = "/api/resources/default/calendar/\(feedSecret).ics"
            let id = try #require(try object(try await client.book(try bookingBody()))["id"] as? Int)
            let first = try await client.execute(uri: uri, method: .get)
            let etag = try #require(first.headers[.eTag])
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count == 66)
            clock.advance(by: .seconds(60))
            let again = try await client.execute(uri: uri, method: .get)
            #expect(
                again.headers[.eTag] == etag, "the feed has no time of its own: the same appointments, the same tag")
            for match in [etag, "W/\(etag)", "\"other\", \(etag)", "*"] {
                let notModified = try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: match])
                #expect(notModified.status == .notModified, "\(match)")
                #expect(notModified.headers[.eTag] == etag)
                #expect(notModified.body.readableBytes == 0)
            }
            #expect(
                try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: "\"other\""]).status == .ok)
            _ = try await client.reschedule(id, try slotBody("2027-03-01T12:00:00Z"), headers: adminHeaders)
            let changed = try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: etag])
            #expect(changed.status == .ok)
            #expect(changed.headers[.eTag] != etag)
        }
    }

    @Test(
        "feed credentials: 401 without, 403 for a wrong bearer, 404 for a wrong path secret or resource, 404 everywhere while the feed is off",
        arguments: StoreKind.allCases)
    func feedAuthorization(_ kind: StoreKind) async throws {
        try await withAPI(kind, calendarFeedSecret: feedSecret) { client, _ in
            let header = "/api/resources/default/calendar.ics"
            try expectError(try await client.execute(uri: header, method: .get), .unauthorized, code: "UNAUTHORIZED")
            try expectError(
                try await client.execute(uri: header, method: .get, headers: [.authorization: "Bearer \(feedSecret)x"]),
                .forbidden)
            try expectError(
                try await client.execute(uri: header, method: .get, headers: [.cancelToken: feedSecret]), .unauthorized)
            try expectError(
                try await client.execute(
                    uri: "/api/resources/nope/calendar.ics", method: .get,
                    headers: [.authorization: "Bearer \(feedSecret)"]),
                .notFound)
            let wrongSecret = try await client.execute(
                uri: "/api/resources/default/calendar/\(feedSecret)x.ics", method: .get)
            let wrongResource = try await client.execute(
                uri: "/api/resources/nope/calendar/\(feedSecret).ics", method: .get)
            try expectError(wrongSecret, .notFound)
            #expect(String(buffer: wrongSecret.body) == String(buffer: wrongResource.body))
            try expectError(
                try await client.execute(uri: "/api/resources/default/calendar/\(adminToken).ics", method: .get),
                .notFound, code: "NOT_FOUND")
            try expectError(
                try await client.execute(uri: "/api/resources/default/calendar.ics?secret=\(feedSecret)", method: .get),
                .unauthorized)
        }
        try await withAPI(kind) { client, _ in
            for (uri, headers) in [
                ("/api/resources/default/calendar.ics", adminHeaders),
                ("/api/resources/default/calendar.ics", [.authorization: "Bearer \(feedSecret)"]),
                ("/api/resources/default/calendar/\(feedSecret).ics", [:]),
            ] as [(String, HTTPFields)] {
                try expectError(try await client.execute(uri: uri, method: .get, headers: headers), .notFound)
            }
        }
    }

    @Test(
        "a resource's feed key opens its feed and no other; the admin gets its path; the feed secret opens every feed",
        arguments: StoreKind.allCases)
    func resourceFeedKeys(_ kind: StoreKind) async throws {
        let utc = TimeZone(identifier: "UTC")!
        let resources = [
            ConfiguredResource(id: .default, name: "Room", schedule: .standard(in: utc)),
            ConfiguredResource(id: "dr-lee", name: "Dr. Lee", schedule: .standard(in: utc)),
        ]
        try await withAPI(kind, resources: resources, calendarFeedSecret: feedSecret) { client, _ in
            func link(_ resource: String, headers: HTTPFields = adminHeaders) async throws -> TestResponse {
                try await client.execute(
                    uri: "/api/resources/\(resource)/calendar-feed", method: .get, headers: headers)
            }
            let answer = try await link("dr-lee")
            #expect(answer.status == .ok)
            #expect(answer.headers[.cacheControl] == "no-store")
            let described = try object(answer)
            #expect(described["resource"] as? String == "dr-lee")
            let path = try #require(described["path"] as? String)
            let key = String(path.dropFirst("/api/resources/dr-lee/calendar/".count).dropLast(".ics".count))
            #expect(path == "/api/resources/dr-lee/calendar/\(key).ics")
            #expect(key.count == 43 && key != feedSecret)
            #expect(
                key == CalendarFeedCredential.key(of: "dr-lee", secret: feedSecret),
                "the key is derived from the secret: the same after a restart")
            let otherPath = try #require(try object(try await link("default"))["path"] as? String)
            #expect(otherPath != "/api/resources/default/calendar/\(key).ics", "each resource has a key of its own")

            let leeBooking = try body([
                "slotStart": "2027-03-01T10:00:00Z", "slotEnd": "2027-03-01T10:30:00Z", "name": "Ada Lovelace",
                "email": "ada@example.com", "resource": "dr-lee",
            ])
            let lee = try uidLine(of: try object(try await client.book(leeBooking)))
            _ = try await client.book(try bookingBody("2027-03-01T11:00:00Z"))
            let leeFeed = lines(try await client.execute(uri: path, method: .get))
            #expect(leeFeed.filter { $0.hasPrefix("UID:") } == [lee])
            #expect(value("X-WR-CALNAME", in: leeFeed) == "Dr. Lee")
            let byHeader = try await client.execute(
                uri: "/api/resources/dr-lee/calendar.ics", method: .get, headers: [.authorization: "Bearer \(key)"])
            #expect(byHeader.status == .ok)
            #expect(lines(byHeader).filter { $0.hasPrefix("UID:") } == [lee])

            // The key opens no other resource's feed, in the path (404, as any wrong secret) or a header (403).
            let elsewhere = try await client.execute(
                uri: "/api/resources/default/calendar/\(key).ics", method: .get)
            let wrong = try await client.execute(
                uri: "/api/resources/default/calendar/wrong-secret-0123456789.ics", method: .get)
            try expectError(elsewhere, .notFound)
            #expect(String(buffer: elsewhere.body) == String(buffer: wrong.body))
            try expectError(
                try await client.execute(
                    uri: "/api/resources/default/calendar.ics", method: .get, headers: [.authorization: "Bearer \(key)"]
                ),
                .forbidden)
            // The secret itself still opens every feed.
            for resource in ["default", "dr-lee"] {
                #expect(
                    try await client.execute(
                        uri: "/api/resources/\(resource)/calendar/\(feedSecret).ics", method: .get
                    ).status == .ok)
            }

            // Only the admin gets a key: 401 without a credential, 403 for the feed secret, a key or a cancel
            // token's place; 404 for a resource the host does not serve.
            try expectError(try await link("dr-lee", headers: [:]), .unauthorized)
            for bearer in [feedSecret, key, "wrong-admin-token-0123456789"] {
                try expectError(try await link("dr-lee", headers: [.authorization: "Bearer \(bearer)"]), .forbidden)
            }
            try expectError(try await link("nope"), .notFound)
        }
        try await withAPI(kind) { client, _ in
            try expectError(
                try await client.execute(
                    uri: "/api/resources/default/calendar-feed", method: .get, headers: adminHeaders),
                .notFound, code: "NOT_FOUND")
        }
    }

    @Test(
        "the feed secret and a feed key never reach a log line: in its path, misspelt, percent-encoded, or in a path no route has"
    )
    func feedSecretNeverLogged() async throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "calendar", factory: { _ in handler })
        logger.logLevel = .trace
        try await withAPI(.memory, calendarFeedSecret: feedSecret, logger: logger) { client, _ in
            let encoded = feedSecret.replacingOccurrences(of: "f", with: "%66")
            let key = CalendarFeedCredential.key(of: .default, secret: feedSecret)
            for uri in [
                "/api/resources/default/calendar/\(feedSecret).ics", "/api/resources/default/calendar/\(encoded).ics",
                "/api/resources/default/calendar/\(feedSecret.dropLast()).ics",
                "/api/resources/nope/calendar/\(feedSecret).ics", "/api/calendar/\(feedSecret)",
                "/api/resources/default/calendar/\(feedSecret)", "/api/resources/default/calendar.ics",
                "/api/resources/default/calendar/\(feedSecret.dropLast(3))x.icsx", "/nope/\(feedSecret)",
                "/nope/\(encoded)", "/nope/x\(encoded)y/z", "/api/resources/default/calendar/\(key).ics",
                "/api/resources/nope/calendar/\(key).ics", "/nope/\(key)",
                "/api/resources/default/calendar-feed/\(key)",
            ] {
                _ = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(feedSecret)"])
            }
            _ = try await client.execute(
                uri: "/api/resources/default/calendar/\(feedSecret).ics", method: .post)
        }
        let logged = handler.entries.map { entry in
            "\(entry.message) \(entry.metadata.map { "\($0.key)=\($0.value)" }.joined(separator: " "))"
        }.joined(separator: "\n")
        #expect(handler.entries.count >= 15, "the requests were logged")
        #expect(logged.contains("/api/resources/default/calendar/{secret}.ics"), "the route's shape is logged")
        for secret in [
            feedSecret, String(feedSecret.dropLast()), feedSecret.replacingOccurrences(of: "f", with: "%66"),
            String(feedSecret.dropLast(3)), CalendarFeedCredential.key(of: .default, secret: feedSecret),
        ] {
            #expect(!logged.contains(secret), "the feed secret was logged:\n\(logged)")
        }
    }
}
