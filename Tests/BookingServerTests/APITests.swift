import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BookingServer

@Suite("HTTP API")
struct APITests {
    @Test(
        "availability: sorted {start, end, seats_left} in UTC with milliseconds, window clamped",
        arguments: StoreKind.allCases)
    func availability(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            try await client.execute(uri: "/api/availability", method: .get) { response in
                #expect(response.status == .ok)
                let slots = try #require(try json(response) as? [[String: Any]])
                #expect(slots.count == 7 * 16)
                let first = try #require(slots.first)
                #expect(Set(first.keys) == ["start", "end", "seats_left"])
                #expect(first["start"] as? String == "2027-03-01T09:00:00.000Z")
                #expect(first["end"] as? String == "2027-03-01T09:30:00.000Z")
                #expect(slots.allSatisfy { $0["seats_left"] as? Int == 1 }, "capacity 1: one seat each")
                let starts = slots.map { $0["start"] as? String ?? "" }
                #expect(starts == starts.sorted())
            }
            let uri = "/api/availability?from=2027-03-01T10:00:00%2B01:00&to=2027-03-01T11:00:00.000Z"
            try await client.execute(uri: uri, method: .get) { response in
                let slots = try #require(try json(response) as? [[String: Any]])
                #expect(
                    slots.map { $0["start"] as? String } == [
                        "2027-03-01T09:00:00.000Z", "2027-03-01T09:30:00.000Z", "2027-03-01T10:00:00.000Z",
                        "2027-03-01T10:30:00.000Z",
                    ])
            }
            try await client.execute(
                uri: "/api/availability?from=2027-03-02T00:00:00Z&to=2027-03-01T00:00:00Z", method: .get
            ) { response in
                let error = try expectError(response, .badRequest, code: "INVALID_INPUT")
                #expect(fieldProblems(error)["to"] != nil)
            }
            try await client.execute(uri: "/api/availability?from=yesterday", method: .get) {
                try expectError($0, .badRequest)
            }
            // A name no resource can have is one not configured: 404, as DESIGN §5 says of any other name.
            try await client.execute(uri: "/api/availability?resource=bad%20id", method: .get) {
                try expectError($0, .notFound, code: "NOT_FOUND")
            }
        }
    }

    @Test(
        "booking: 201 with cancel_token and the seed's fields; the slot leaves availability",
        arguments: StoreKind.allCases)
    func booking(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let response = try await client.book(try bookingBody())
            #expect(response.status == .created)
            let appointment = try object(response)
            let fields = Set(appointment.keys)
            #expect(
                fields == [
                    "id", "slot_start", "slot_end", "customer_name", "customer_email", "note", "status", "created_at",
                    "updated_at", "resource", "cancelled_at", "sequence", "cancel_token",
                ])
            #expect(appointment["slot_start"] as? String == "2027-03-01T10:00:00.000Z")
            #expect(appointment["status"] as? String == "booked")
            #expect(appointment["created_at"] as? String == "2027-03-01T08:00:00.000Z")
            #expect(appointment["id"] is Int)
            #expect(appointment["note"] is NSNull)
            try await client.execute(
                uri: "/api/availability?from=2027-03-01T10:00:00Z&to=2027-03-01T11:00:00Z", method: .get
            ) { response in
                let slots = try json(response) as? [[String: Any]]
                #expect(slots?.map { $0["start"] as? String } == ["2027-03-01T10:30:00.000Z"])
            }
        }
    }

    @Test("409 for a taken slot and for an overlapping one", arguments: StoreKind.allCases)
    func conflicts(_ kind: StoreKind) async throws {
        let buffered = try Schedule(
            timeZone: TimeZone(identifier: "UTC")!, bufferBefore: .minutes(15), bufferAfter: .minutes(15))
        try await withAPI(kind, schedule: buffered) { client, _ in
            #expect(try await client.book(try bookingBody()).status == .created)
            try expectError(try await client.book(try bookingBody()), .conflict, code: "SLOT_UNAVAILABLE")
            try expectError(
                try await client.book(try bookingBody("2027-03-01T10:30:00Z")), .conflict, code: "SLOT_UNAVAILABLE")
            #expect(try await client.book(try bookingBody("2027-03-01T11:00:00Z")).status == .created)
        }
    }

    @Test("cancel: token or admin, idempotent; the slot can be booked again", arguments: StoreKind.allCases)
    func cancel(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let booked = try object(try await client.book(try bookingBody()))
            let id = try #require(booked["id"] as? Int)
            let token = try #require(booked["cancel_token"] as? String)
            try expectError(
                try await client.execute(uri: "/api/appointments/\(id)/cancel", method: .post), .unauthorized,
                code: "UNAUTHORIZED")
            try expectError(
                try await client.execute(
                    uri: "/api/appointments/\(id)/cancel", method: .post, headers: [.cancelToken: "wrong"]),
                .forbidden, code: "FORBIDDEN")
            try expectError(
                try await client.execute(
                    uri: "/api/appointments/\(id)/cancel", method: .post, headers: [.authorization: "Bearer wrong"]),
                .forbidden)
            // The token in the body; an empty header is no header, so it does not hide the body's token.
            let first = try await client.execute(
                uri: "/api/appointments/\(id)/cancel", method: .post, headers: jsonHeaders.merging([.cancelToken: ""]),
                body: try body(["token": token]))
            #expect(first.status == .ok)
            let cancelled = try object(first)
            #expect(cancelled["status"] as? String == "cancelled")
            #expect(cancelled["cancelled_at"] is String)
            #expect(cancelled["sequence"] as? Int == 1, "a cancel raises the sequence, as calendars expect")
            let second = try object(
                try await client.execute(
                    uri: "/api/appointments/\(id)/cancel", method: .post, headers: [.cancelToken: token]))
            #expect(second["cancelled_at"] as? String == cancelled["cancelled_at"] as? String)
            let third = try object(
                try await client.execute(uri: "/api/appointments/\(id)/cancel", method: .post, headers: adminHeaders))
            #expect(third["updated_at"] as? String == cancelled["updated_at"] as? String)
            #expect(third["sequence"] as? Int == 1, "a second cancel changes nothing")
            #expect(try await client.book(try bookingBody()).status == .created)
            try expectError(
                try await client.execute(uri: "/api/appointments/99999/cancel", method: .post, headers: adminHeaders),
                .notFound, code: "NOT_FOUND")
        }
    }

    @Test("listing and reading need the admin token (or the cancel token for one)", arguments: StoreKind.allCases)
    func admin(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let late = try object(try await client.book(try bookingBody("2027-03-01T15:00:00Z")))
            let early = try object(try await client.book(try bookingBody("2027-03-01T09:00:00Z")))
            let anonymous = try expectError(
                try await client.execute(uri: "/api/appointments", method: .get), .unauthorized)
            #expect(
                anonymous["detail"] as? String == "This route needs the admin token (Authorization: Bearer ...).",
                "an admin-only route names the admin token alone")
            try expectError(
                try await client.execute(
                    uri: "/api/appointments", method: .get, headers: [.authorization: "Bearer nope"]), .forbidden)
            let list = try #require(
                try json(try await client.execute(uri: "/api/appointments", method: .get, headers: adminHeaders))
                    as? [[String: Any]])
            #expect(list.map { $0["id"] as? Int } == [early["id"] as? Int, late["id"] as? Int])
            #expect(list.allSatisfy { $0["cancel_token"] == nil })
            let id = try #require(late["id"] as? Int)
            let token = try #require(late["cancel_token"] as? String)
            #expect(
                try await client.execute(uri: "/api/appointments/\(id)", method: .get, headers: [.cancelToken: token])
                    .status == .ok)
            try expectError(
                try await client.execute(uri: "/api/appointments/\(id)?token=\(token)", method: .get), .unauthorized)
            #expect(
                try await client.execute(uri: "/api/appointments/\(id)", method: .get, headers: adminHeaders).status
                    == .ok)
            try expectError(try await client.execute(uri: "/api/appointments/\(id)", method: .get), .unauthorized)
            try expectError(
                try await client.execute(
                    uri: "/api/appointments/\(id)", method: .get,
                    headers: [.cancelToken: early["cancel_token"] as? String ?? ""]), .forbidden)
            try expectError(
                try await client.execute(uri: "/api/appointments/424242", method: .get, headers: adminHeaders),
                .notFound)
            try expectError(
                try await client.execute(uri: "/api/appointments/abc", method: .get, headers: adminHeaders), .badRequest
            )
            try expectError(
                try await client.execute(uri: "/api/appointments/-3/cancel", method: .post, headers: adminHeaders),
                .badRequest)
            // An id is digits: a sign or a space is not (Int64 would read "+1" as 1).
            for id in ["+1", "%2B1", "1%20", "%201", "0x1"] {
                try expectError(
                    try await client.execute(uri: "/api/appointments/\(id)", method: .get, headers: adminHeaders),
                    .badRequest, code: "INVALID_INPUT")
                try expectError(
                    try await client.execute(
                        uri: "/api/notifications?appointment_id=\(id)", method: .get, headers: adminHeaders),
                    .badRequest, code: "INVALID_INPUT")
            }
            let notifications = try #require(
                try json(try await client.execute(uri: "/api/notifications", method: .get, headers: adminHeaders))
                    as? [[String: Any]])
            #expect(notifications.count == 2)
            try expectError(try await client.execute(uri: "/api/notifications", method: .get), .unauthorized)
            try expectError(try await client.execute(uri: "/api/notifications/1/retry", method: .post), .unauthorized)
            try expectError(
                try await client.execute(uri: "/api/notifications/999/retry", method: .post, headers: adminHeaders),
                .notFound)
        }
    }

    @Test(
        "400 for malformed JSON, wrong types, missing or unknown fields and a bad email, naming the fields",
        arguments: StoreKind.allCases)
    func badBodies(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            try expectError(try await client.book(ByteBuffer(string: "{not json")), .badRequest, code: "INVALID_INPUT")
            try expectError(try await client.book(ByteBuffer(string: "[1,2]")), .badRequest)
            try expectError(try await client.book(ByteBuffer(string: "")), .badRequest)
            let cases: [([String: Any], String)] = [
                (["slotStart": 5, "slotEnd": "2027-03-01T10:30:00Z", "name": "A", "email": "a@b.co"], "slotStart"),
                (["slotStart": "2027-03-01T10:00:00Z", "slotEnd": "2027-03-01T10:30:00Z", "email": "a@b.co"], "name"),
                (
                    [
                        "slotStart": "2027-03-01T10:00:00Z", "slotEnd": "2027-03-01T10:30:00Z", "name": "A",
                        "email": "nope",
                    ], "email"
                ),
                (
                    [
                        "slotStart": "2027-03-01T10:00:00Z", "slotEnd": "2027-03-01T10:30:00Z", "name": true,
                        "email": "a@b.co",
                    ], "name"
                ),
                (
                    ["slotStart": "tomorrow", "slotEnd": "2027-03-01T10:30:00Z", "name": "A", "email": "a@b.co"],
                    "slotStart"
                ),
                (
                    [
                        "slotStart": "2027-03-01T10:00:00Z", "slotEnd": "2027-03-01T10:30:00Z", "name": "A",
                        "email": "a@b.co", "admin": true,
                    ], "admin"
                ),
                (
                    [
                        "slotStart": "2027-03-01T10:00:00Z", "slotEnd": "2027-03-01T10:30:00Z", "name": "A",
                        "email": "a@b.co", "note": String(repeating: "x", count: 501),
                    ], "note"
                ),
                (
                    [
                        "slotStart": "2027-03-01T10:00:00Z", "slotEnd": "2027-03-01T10:30:00Z", "name": "A",
                        "email": "a@b.co", "resource": 7,
                    ], "resource"
                ),
            ]
            for (fields, field) in cases {
                let error = try expectError(try await client.book(try body(fields)), .badRequest, code: "INVALID_INPUT")
                #expect(fieldProblems(error)["/\(field)"] != nil, "field \(field)")
            }
            let everything = try expectError(
                try await client.book(try body(["slotStart": 5, "name": true, "note": 7, "extra": 1])), .badRequest,
                code: "INVALID_INPUT")
            #expect(
                fieldProblems(everything) == [
                    "/slotStart": "must be a string", "/slotEnd": "is required", "/name": "must be a string",
                    "/email": "is required", "/note": "must be a string", "/extra": "is not a known field",
                ], "every bad field at once")
            let admin = try #require(
                try json(try await client.execute(uri: "/api/appointments", method: .get, headers: adminHeaders))
                    as? [Any])
            #expect(admin.isEmpty)
        }
    }

    @Test("413 for a body over 16 KiB")
    func tooLarge() async throws {
        try await withAPI(.memory) { client, _ in
            let huge = ByteBuffer(string: "{\"name\":\"" + String(repeating: "x", count: 17 * 1024) + "\"}")
            try expectError(try await client.book(huge), .contentTooLarge, code: "PAYLOAD_TOO_LARGE")
        }
    }

    @Test("422 for off-grid, past and beyond-horizon slots and a reused idempotency key", arguments: StoreKind.allCases)
    func notOffered(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            try expectError(
                try await client.book(try bookingBody("2027-03-01T10:10:00Z")), .unprocessableContent,
                code: "SLOT_NOT_OFFERED")
            try expectError(
                try await client.book(try bookingBody("2027-02-28T10:00:00Z")), .unprocessableContent,
                code: "SLOT_NOT_OFFERED")
            try expectError(
                try await client.book(try bookingBody("2027-03-10T10:00:00Z")), .unprocessableContent,
                code: "SLOT_NOT_OFFERED")
            try expectError(
                try await client.book(try bookingBody("2027-03-01T10:00:00Z", minutes: 60)), .unprocessableContent)
            #expect(try await client.book(try bookingBody(), headers: [.idempotencyKey: "key-1"]).status == .created)
            try expectError(
                try await client.book(try bookingBody("2027-03-01T11:00:00Z"), headers: [.idempotencyKey: "key-1"]),
                .unprocessableContent, code: "IDEMPOTENCY_KEY_REUSED")
        }
    }

    @Test(
        "retries with one Idempotency-Key return the original appointment and its cancel token",
        arguments: StoreKind.allCases)
    func idempotentRetries(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let first = try await client.book(try bookingBody(), headers: [.idempotencyKey: "retry-1"])
            let second = try await client.book(try bookingBody(), headers: [.idempotencyKey: "retry-1"])
            #expect(first.status == .created && second.status == .created)
            #expect(second.headers[.idempotentReplayed] == "true")
            #expect(try object(first)["id"] as? Int == object(second)["id"] as? Int)
            let token = try #require(try object(first)["cancel_token"] as? String)
            #expect(try object(second)["cancel_token"] as? String == token, "the replay gives the token back")
            let all = try #require(
                try json(try await client.execute(uri: "/api/appointments", method: .get, headers: adminHeaders))
                    as? [Any])
            #expect(all.count == 1)
        }
    }

    @Test("health, readiness, metrics, unknown routes and methods")
    func operational() async throws {
        try await withAPI(.memory) { client, _ in
            #expect(try object(try await client.execute(uri: "/health", method: .get))["ok"] as? Bool == true)
            #expect(try object(try await client.execute(uri: "/health/ready", method: .get))["ok"] as? Bool == true)
            _ = try await client.book(try bookingBody())
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains("booking_bookings_total"))
            #expect(metrics.contains("http_server_requests_total{http_route=\"/api/appointments\""))
            #expect(metrics.contains("http_server_request_duration_seconds_bucket{"))
            try expectError(
                try await client.execute(uri: "/api/nothing-here", method: .get), .notFound, code: "NOT_FOUND")
            let wrongMethod = try await client.execute(uri: "/api/appointments", method: .delete)
            try expectError(wrongMethod, .methodNotAllowed, code: "METHOD_NOT_ALLOWED")
            #expect(wrongMethod.headers[.allow] == "GET, HEAD, POST")
            let wrongOnParameter = try await client.execute(uri: "/api/appointments/7/cancel", method: .get)
            #expect(wrongOnParameter.status == .methodNotAllowed && wrongOnParameter.headers[.allow] == "POST")
        }
    }

    @Test("HEAD answers every GET route with the GET's status and headers and no body")
    func headRequests() async throws {
        try await withAPI(.memory) { client, _ in
            for uri in ["/health", "/health/ready", "/api/availability", "/api/resources", "/metrics", "/"] {
                let get = try await client.execute(uri: uri, method: .get)
                let head = try await client.execute(uri: uri, method: .head)
                #expect(get.status == .ok && head.status == .ok, "\(uri)")
                #expect(head.body.readableBytes == 0, "\(uri)")
                #expect(head.headers[.contentType] == get.headers[.contentType], "\(uri)")
                if uri != "/metrics" {  // the metrics text grows with every request
                    #expect(head.headers[.contentLength] == String(get.body.readableBytes), "\(uri)")
                }
            }
            // A refused HEAD has the GET's headers too: the same problem, of a query parameter, the same length.
            let backwards = "/api/availability?from=2027-03-02T00:00:00Z&to=2027-03-01T00:00:00Z"
            let refusedGet = try await client.execute(uri: backwards, method: .get)
            let refusedHead = try await client.execute(uri: backwards, method: .head)
            #expect(refusedGet.status == .badRequest && refusedHead.status == .badRequest)
            #expect(String(buffer: refusedGet.body).contains("\"parameter\""))
            #expect(refusedHead.headers[.contentLength] == refusedGet.headers[.contentLength])
            // A GET route's refusals stay refusals: no credential is 401, a wrong one 403. (A refusal's problem body is
            // made by the middleware outside the route; NIO's encoder leaves it off the wire for HEAD.)
            let anonymous = try await client.execute(uri: "/api/appointments", method: .head)
            #expect(anonymous.status == .unauthorized)
            let wrong = try await client.execute(
                uri: "/api/appointments", method: .head, headers: [.authorization: "Bearer wrong"])
            #expect(wrong.status == .forbidden)
            // A path served only by POST: 405 naming POST; a path served by nothing: 404.
            let postOnly = try await client.execute(uri: "/api/appointments/7/cancel", method: .head)
            #expect(postOnly.status == .methodNotAllowed && postOnly.headers[.allow] == "POST")
            #expect(try await client.execute(uri: "/api/nothing-here", method: .head).status == .notFound)
            // Every HEAD was counted and has ended: the metrics see HEAD like any request.
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let lines = metrics.split(separator: "\n")
            #expect(lines.contains("http_server_active_requests{http_request_method=\"HEAD\"} 0.0"), "\(metrics)")
            let counted = lines.first {
                $0.hasPrefix(
                    "http_server_request_duration_seconds_count{http_route=\"/health\",http_request_method=\"HEAD\","
                        + "http_response_status_code=\"200\"}")
            }
            #expect(counted.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0 >= 1, "\(metrics)")
        }
    }

    @Test("no request makes a 500, and every failure has a JSON error body")
    func noServerErrors() async throws {
        try await withAPI(.sqlite) { client, _ in
            let requests: [(String, HTTPRequest.Method, String?)] = [
                ("/api/appointments", .post, "null"), ("/api/appointments", .post, "\"text\""),
                ("/api/appointments", .post, "{\"slotStart\":null}"),
                (
                    "/api/appointments", .post,
                    "{\"slotStart\":\"2027-03-01T10:00:00Z\",\"slotEnd\":\"2027-03-01T09:00:00Z\",\"name\":\"A\",\"email\":\"a@b.co\"}"
                ),
                (
                    "/api/appointments", .post,
                    "{\"slotStart\":\"9999-99-99T99:99:99Z\",\"slotEnd\":1e999,\"name\":[],\"email\":{}}"
                ),
                ("/api/appointments/1/cancel", .post, "{\"token\":5}"), ("/api/appointments/1/cancel", .post, "[]"),
                ("/api/appointments/99999999999999999999999/cancel", .post, nil), ("/api/appointments/0", .get, nil),
                ("/api/availability?from=2027-03-01T00:00:00Z&to=9999-12-31T00:00:00Z", .get, nil),
                ("/api/availability?from=0000-01-01T00:00:00Z", .get, nil),
                ("/api/notifications?appointment_id=x", .get, nil),
                ("/api/holds", .post, "null"), ("/api/holds", .post, "{\"slotStart\":null,\"slotEnd\":[]}"),
                ("/api/holds", .post, "{\"slotStart\":\"9999-99-99T99:99:99Z\",\"slotEnd\":1e999,\"resource\":{}}"),
                (
                    "/api/holds", .post,
                    "{\"slotStart\":\"0001-01-01T00:00:00Z\",\"slotEnd\":\"9999-12-31T23:59:59.999Z\"}"
                ),
                ("/api/holds/%FF%FE", .delete, nil), ("/api/holds/" + String(repeating: "a", count: 300), .delete, nil),
            ]
            for (uri, method, text) in requests {
                let response = try await client.execute(
                    uri: uri, method: method,
                    headers: (uri.contains("notifications") ? adminHeaders : [:]).merging(
                        text == nil ? [:] : jsonHeaders),
                    body: text.map { ByteBuffer(string: $0) })
                #expect(response.status.code < 500, "\(method) \(uri) \(text ?? "") -> \(response.status)")
                if response.status.code >= 400 { #expect(try object(response)["code"] is String, "\(uri)") }
            }
        }
    }
}

@Suite("CORS")
struct CORSTests {
    @Test("a configured origin gets CORS headers on preflight and requests; others get none")
    func cors() async throws {
        let service = BookingService(store: InMemoryStoreFactory.make())
        let router = try BookingApplication.router(
            service: service, resources: standardResources, adminToken: adminToken,
            corsOrigins: ["https://shop.example", "https://admin.example"])
        try await Application(router: router).test(.router) { client in
            let preflight = try await client.execute(
                uri: "/api/appointments", method: .options,
                headers: [.origin: "https://shop.example", .accessControlRequestMethod: "POST"])
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://shop.example")
            #expect(preflight.headers[.accessControlAllowHeaders]?.lowercased().contains("idempotency-key") == true)
            let get = try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://shop.example"])
            #expect(get.headers[.accessControlAllowOrigin] == "https://shop.example")
            let other = try await client.execute(
                uri: "/health", method: .get, headers: [.origin: "https://evil.example"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
        }
        let closed = try BookingApplication.router(
            service: service, resources: standardResources, adminToken: adminToken, corsOrigins: [])
        try await Application(router: closed).test(.router) { client in
            let get = try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://shop.example"])
            #expect(get.headers[.accessControlAllowOrigin] == nil)
        }
    }
}
