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

@Suite("HTTP API: slot holds")
struct HoldAPITests {
    @Test(
        "a hold is 201 with its token and expiry; availability leaves it out; without the token a booking is 409 SLOT_HELD with Retry-After, with it 201, and the token again 409 HOLD_EXPIRED",
        arguments: StoreKind.allCases)
    func holdThenBook(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, clock in
            let response = try await client.hold(try slotBody("2027-03-01T10:00:00Z"))
            #expect(response.status == .created)
            #expect(response.headers[.cacheControl] == "no-store")
            let hold = try object(response)
            #expect(Set(hold.keys) == ["token", "resource", "slot_start", "slot_end", "expires_at"])
            #expect(hold["resource"] as? String == "default")
            #expect(hold["slot_start"] as? String == "2027-03-01T10:00:00.000Z")
            #expect(hold["slot_end"] as? String == "2027-03-01T10:30:00.000Z")
            #expect(hold["expires_at"] as? String == "2027-03-01T08:05:00.000Z", "now + 5 minutes")
            let token = try #require(hold["token"] as? String)
            #expect(token.count >= 32)
            #expect(
                try await client.freeStarts(from: "2027-03-01T10:00:00Z", to: "2027-03-01T11:00:00Z") == [
                    "2027-03-01T10:30:00.000Z"
                ], "a held slot is taken for everyone else")

            let refused = try await client.book(try bookingBody(email: "eve@example.com"))
            try expectError(refused, .conflict, code: "SLOT_HELD")
            #expect(refused.headers[.retryAfter] == "300", "seconds until the hold lapses")
            clock.advance(by: .milliseconds(100_500))
            let later = try await client.book(try bookingBody(email: "eve@example.com"))
            try expectError(later, .conflict, code: "SLOT_HELD")
            #expect(later.headers[.retryAfter] == "200", "199.5 seconds, rounded up")
            let secondHold = try await client.hold(try slotBody("2027-03-01T10:00:00Z"))
            try expectError(secondHold, .conflict, code: "SLOT_HELD")
            #expect(secondHold.headers[.retryAfter] == "200")

            // A move onto the held slot is refused the same way.
            let other = try object(try await client.book(try bookingBody("2027-03-01T14:00:00Z")))
            let otherID = try #require(other["id"] as? Int)
            let move = try await client.reschedule(otherID, try slotBody("2027-03-01T10:00:00Z"), headers: adminHeaders)
            try expectError(move, .conflict, code: "SLOT_HELD")
            #expect(move.headers[.retryAfter] == "200")

            let booked = try await client.book(try bookingBody(holdToken: token))
            #expect(booked.status == .created, "body: \(String(buffer: booked.body))")
            #expect(try object(booked)["slot_start"] as? String == "2027-03-01T10:00:00.000Z")
            try expectError(
                try await client.book(try bookingBody(email: "grace@example.com", holdToken: token)), .conflict,
                code: "HOLD_EXPIRED")
            try expectError(try await client.releaseHold(token), .notFound, code: "NOT_FOUND")
            try expectError(
                try await client.book(try bookingBody("2027-03-01T11:00:00Z", holdToken: "never-handed-out")),
                .conflict, code: "HOLD_EXPIRED")
            #expect(
                try await client.freeStarts(from: "2027-03-01T10:00:00Z", to: "2027-03-01T11:00:00Z") == [
                    "2027-03-01T10:30:00.000Z"
                ])
        }
    }

    @Test(
        "DELETE releases a hold at once (204, then 404); a hold lapses exactly at expires_at on the service's clock",
        arguments: StoreKind.allCases)
    func releaseAndExpiry(_ kind: StoreKind) async throws {
        try await withAPI(kind, holdDuration: .minutes(2)) { client, clock in
            let first = try object(try await client.hold(try slotBody("2027-03-01T10:00:00Z")))
            #expect(first["expires_at"] as? String == "2027-03-01T08:02:00.000Z", "the configured 2 minutes")
            let token = try #require(first["token"] as? String)
            let released = try await client.releaseHold(token)
            #expect(released.status == .noContent)
            #expect(released.body.readableBytes == 0)
            #expect(
                try await client.freeStarts(from: "2027-03-01T10:00:00Z", to: "2027-03-01T10:30:00Z") == [
                    "2027-03-01T10:00:00.000Z"
                ], "free again at once")
            try expectError(try await client.releaseHold(token), .notFound, code: "NOT_FOUND")

            let second = try object(try await client.hold(try slotBody("2027-03-01T10:00:00Z")))
            let secondToken = try #require(second["token"] as? String)
            let expiresText = try #require(second["expires_at"] as? String)
            let expiresAt = try #require(ISO8601.parse(expiresText))
            clock.set(to: expiresAt.addingTimeInterval(-0.001))
            let lastMoment = try await client.book(try bookingBody(email: "eve@example.com"))
            try expectError(lastMoment, .conflict, code: "SLOT_HELD")
            #expect(lastMoment.headers[.retryAfter] == "1", "1 ms left is at least one second")
            #expect(try await client.freeStarts(from: "2027-03-01T10:00:00Z", to: "2027-03-01T10:30:00Z") == [])

            clock.set(to: expiresAt)
            #expect(
                try await client.freeStarts(from: "2027-03-01T10:00:00Z", to: "2027-03-01T10:30:00Z") == [
                    "2027-03-01T10:00:00.000Z"
                ], "lapsed exactly at expires_at")
            try expectError(
                try await client.book(try bookingBody(holdToken: secondToken)), .conflict, code: "HOLD_EXPIRED")
            try expectError(try await client.releaseHold(secondToken), .notFound, code: "NOT_FOUND")
            #expect(try await client.book(try bookingBody(email: "eve@example.com")).status == .created)
        }
    }

    @Test(
        "with capacity 2 a hold takes one seat: seats_left counts it, the other seat can be booked, then the held one is SLOT_HELD",
        arguments: StoreKind.allCases)
    func holdOneSeat(_ kind: StoreKind) async throws {
        let schedule = try Schedule(timeZone: TimeZone(identifier: "UTC")!, capacity: 2)
        try await withAPI(kind, schedule: schedule) { client, _ in
            let token = try #require(
                try object(try await client.hold(try slotBody("2027-03-01T10:00:00Z")))["token"] as? String)
            #expect(try await client.seats(from: "2027-03-01T10:00:00Z", to: "2027-03-01T10:30:00Z") == [1])
            #expect(try await client.book(try bookingBody(email: "bob@example.com")).status == .created)
            #expect(try await client.seats(from: "2027-03-01T10:00:00Z", to: "2027-03-01T10:30:00Z") == [])
            let refused = try await client.book(try bookingBody(email: "eve@example.com"))
            try expectError(refused, .conflict, code: "SLOT_HELD")
            #expect(refused.headers[.retryAfter] == "300")
            #expect(try await client.book(try bookingBody(holdToken: token)).status == .created)
            try expectError(
                try await client.book(try bookingBody(email: "eve@example.com")), .conflict, code: "SLOT_UNAVAILABLE")
            try expectError(
                try await client.hold(try slotBody("2027-03-01T10:00:00Z")), .conflict, code: "SLOT_UNAVAILABLE")
        }
    }

    @Test(
        "a hold counts toward a daily limit while it lives: the day is hidden, a booking is 409 SLOT_HELD until it lapses, and a release reopens it",
        arguments: StoreKind.allCases)
    func holdCountsTowardALimit(_ kind: StoreKind) async throws {
        let schedule = try Schedule(timeZone: TimeZone(identifier: "UTC")!, dailyLimit: 1)
        try await withAPI(kind, schedule: schedule) { client, _ in
            let token = try #require(
                try object(try await client.hold(try slotBody("2027-03-01T10:00:00Z")))["token"] as? String)
            #expect(try await client.freeStarts(from: "2027-03-01T00:00:00Z", to: "2027-03-02T00:00:00Z") == [])
            #expect(try await client.freeStarts(from: "2027-03-02T00:00:00Z", to: "2027-03-03T00:00:00Z").count == 16)
            let held = try await client.book(try bookingBody("2027-03-01T11:00:00Z"))
            try expectError(held, .conflict, code: "SLOT_HELD")
            #expect(held.headers[.retryAfter] == "300", "the day frees when the hold lapses")
            #expect(try await client.releaseHold(token).status == .noContent)
            #expect(try await client.freeStarts(from: "2027-03-01T00:00:00Z", to: "2027-03-02T00:00:00Z").count == 16)
            #expect(try await client.book(try bookingBody("2027-03-01T11:00:00Z")).status == .created)
        }
    }

    @Test(
        "holds are refused like bookings: a booked slot 409, a slot not offered 422, an unknown resource 404; a token of another slot is 400",
        arguments: StoreKind.allCases)
    func refusals(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            #expect(try await client.book(try bookingBody()).status == .created)
            try expectError(
                try await client.hold(try slotBody("2027-03-01T10:00:00Z")), .conflict, code: "SLOT_UNAVAILABLE")
            for start in [
                "2027-03-01T10:10:00Z", "2027-02-28T10:00:00Z", "2027-03-10T10:00:00Z", "2027-03-01T20:00:00Z",
            ] {
                try expectError(
                    try await client.hold(try slotBody(start)), .unprocessableContent, code: "SLOT_NOT_OFFERED")
            }
            try expectError(
                try await client.hold(
                    try body([
                        "slotStart": "2027-03-01T11:00:00Z", "slotEnd": "2027-03-01T11:30:00Z", "resource": "other",
                    ])), .notFound, code: "NOT_FOUND")
            let token = try #require(
                try object(try await client.hold(try slotBody("2027-03-01T11:00:00Z")))["token"] as? String)
            let elsewhere = try expectError(
                try await client.book(try bookingBody("2027-03-01T12:00:00Z", holdToken: token)), .badRequest,
                code: "INVALID_INPUT")
            #expect(fieldProblems(elsewhere)["/holdToken"] != nil, "\(elsewhere)")
            #expect(try await client.book(try bookingBody("2027-03-01T11:00:00Z", holdToken: token)).status == .created)
        }
    }

    @Test("concurrent holds of one slot: exactly one 201, every other 409 SLOT_HELD", arguments: StoreKind.allCases)
    func concurrentHolds(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let statuses = try await withThrowingTaskGroup(of: (UInt16, String?).self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let response = try await client.hold(try slotBody("2027-03-01T10:00:00Z"))
                        guard response.status != .created else { return (201, nil) }
                        return (UInt16(response.status.code), try object(response)["code"] as? String)
                    }
                }
                return try await group.reduce(into: [(UInt16, String?)]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == 201 }.count == 1)
            #expect(statuses.filter { $0.0 == 409 && $0.1 == "SLOT_HELD" }.count == 19, "\(statuses)")
        }
    }

    @Test(
        "bad input on the hold routes is 400 naming every bad field (never a 500); a body that is not JSON is 415",
        arguments: StoreKind.allCases)
    func badRequests(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            try expectError(try await client.hold(ByteBuffer(string: "{not json")), .badRequest, code: "INVALID_INPUT")
            try expectError(try await client.hold(ByteBuffer(string: "[1]")), .badRequest, code: "INVALID_INPUT")
            try expectError(try await client.hold(ByteBuffer(string: "")), .badRequest, code: "INVALID_INPUT")
            let cases: [(String, [String: String])] = [
                ("{}", ["/slotStart": "is required", "/slotEnd": "is required"]),
                (
                    #"{"slotStart":5,"slotEnd":"soon","resource":"a b","holdToken":"x"}"#,
                    [
                        "/slotStart": "must be a string",
                        "/slotEnd": "must be an ISO 8601 instant like 2027-03-01T09:00:00Z",
                        "/holdToken": "is not a known field",
                    ]
                ),
                (
                    #"{"slotStart":"2027-03-01T10:30:00Z","slotEnd":"2027-03-01T10:00:00Z"}"#,
                    ["/slotEnd": "must be after slotStart"]
                ),
                (
                    #"{"slotStart":"2027-02-30T10:00:00Z","slotEnd":null}"#,
                    [
                        "/slotStart": "must be an ISO 8601 instant like 2027-03-01T09:00:00Z",
                        "/slotEnd": "is required",
                    ]
                ),
            ]
            for (text, problems) in cases {
                let error = try expectError(
                    try await client.hold(ByteBuffer(string: text)), .badRequest, code: "INVALID_INPUT")
                #expect(fieldProblems(error) == problems, "\(text)")
            }
            try expectError(
                try await client.hold(
                    ByteBuffer(
                        string:
                            #"{"slotStart":"2027-03-01T10:00:00Z","slotStart":"2027-03-01T11:00:00Z","slotEnd":"2027-03-01T10:30:00Z"}"#
                    )), .badRequest, code: "INVALID_INPUT")
            try expectError(
                try await client.execute(
                    uri: "/api/holds", method: .post, headers: [.contentType: "text/plain"],
                    body: try slotBody("2027-03-01T10:00:00Z")), .unsupportedMediaType)

            let longToken = String(repeating: "a", count: 256)
            let badToken = try expectError(try await client.releaseHold(longToken), .badRequest, code: "INVALID_INPUT")
            #expect(fieldProblems(badToken)["token"] != nil, "a path parameter: \(badToken)")
            try expectError(try await client.releaseHold("no-such-hold"), .notFound, code: "NOT_FOUND")
            let wrongMethod = try await client.execute(uri: "/api/holds/no-such-hold", method: .get)
            try expectError(wrongMethod, .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "DELETE")

            for holdToken in [5, "", "a b", String(repeating: "x", count: 256)] as [Any] {
                var fields = try #require(
                    try JSONSerialization.jsonObject(with: Data(try bookingBody().readableBytesView)) as? [String: Any])
                fields["holdToken"] = holdToken
                let error = try expectError(try await client.book(try body(fields)), .badRequest, code: "INVALID_INPUT")
                #expect(fieldProblems(error).keys.sorted() == ["/holdToken"], "\(holdToken): \(error)")
            }
            #expect(try await client.freeStarts(from: "2027-03-01T10:00:00Z", to: "2027-03-01T10:30:00Z").count == 1)
        }
    }

    @Test("a hold token never reaches a log line: in its route, with a wrong method, or in a longer path")
    func tokenNeverLogged() async throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "holds", factory: { _ in handler })
        logger.logLevel = .trace
        try await withAPI(.memory, logger: logger) { client, _ in
            let token = try #require(
                try object(try await client.hold(try slotBody("2027-03-01T10:00:00Z")))["token"] as? String)
            let other = try #require(
                try object(try await client.hold(try slotBody("2027-03-01T11:00:00Z")))["token"] as? String)
            #expect(try await client.book(try bookingBody(holdToken: token)).status == .created)
            _ = try await client.releaseHold(token)
            _ = try await client.execute(uri: "/api/holds/\(other)", method: .get)
            _ = try await client.execute(uri: "/api/holds/\(other)", method: .post, headers: jsonHeaders)
            _ = try await client.execute(uri: "/api/holds/\(other)/extra", method: .delete)
            #expect(try await client.releaseHold(other).status == .noContent)
            let logged = handler.entries.map { entry in
                "\(entry.message) \(entry.metadata.map { "\($0.key)=\($0.value)" }.joined(separator: " "))"
            }.joined(separator: "\n")
            #expect(logged.contains("/api/holds/{token}"), "the route's shape is logged:\n\(logged)")
            #expect(logged.contains("/api/holds/{secret}"), "a path no route has is cut after holds:\n\(logged)")
            for secret in [token, other] {
                #expect(!logged.contains(secret), "a hold token was logged:\n\(logged)")
            }
        }
    }

    @Test("browsers on an allowed origin may DELETE a hold and read a SLOT_HELD's Retry-After")
    func crossOrigin() async throws {
        let service = BookingApplication.service(
            store: InMemoryStoreFactory.make(), resources: standardResources, clock: ManualWallClock(now: testNow),
            logger: Logger(label: "x", factory: { _ in SwiftLogNoOpLogHandler() }))
        let router = try BookingApplication.router(
            service: service, resources: standardResources, adminToken: adminToken,
            corsOrigins: ["https://shop.example"])
        try await Application(router: router).test(.router) { client in
            let preflight = try await client.execute(
                uri: "/api/holds/some-token", method: .options,
                headers: [
                    .origin: "https://shop.example", .accessControlRequestMethod: "DELETE",
                ])
            #expect(preflight.headers[.accessControlAllowMethods]?.contains("DELETE") == true)
            let origin: HTTPFields = [.origin: "https://shop.example", .contentType: "application/json"]
            #expect(
                try await client.execute(
                    uri: "/api/holds", method: .post, headers: origin, body: try slotBody("2027-03-01T10:00:00Z")
                ).status == .created)
            let held = try await client.execute(
                uri: "/api/appointments", method: .post, headers: origin, body: try bookingBody())
            try expectError(held, .conflict, code: "SLOT_HELD")
            #expect(held.headers[.retryAfter] == "300")
            #expect(held.headers[.accessControlExposeHeaders]?.lowercased().contains("retry-after") == true)
        }
    }
}

extension TestClientProtocol {
    /// `POST /api/holds` with a JSON body.
    func hold(_ body: ByteBuffer) async throws -> TestResponse {
        try await execute(uri: "/api/holds", method: .post, headers: jsonHeaders, body: body)
    }

    /// `DELETE /api/holds/:token`.
    func releaseHold(_ token: String) async throws -> TestResponse {
        try await execute(uri: "/api/holds/\(token)", method: .delete)
    }

    /// The seats left of each free slot between `from` and `to`.
    func seats(from: String, to: String) async throws -> [Int] {
        let response = try await execute(uri: "/api/availability?from=\(from)&to=\(to)", method: .get)
        return try #require(try json(response) as? [[String: Any]]).compactMap { $0["seats_left"] as? Int }
    }
}
