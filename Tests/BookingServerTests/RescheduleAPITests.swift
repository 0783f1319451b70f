import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BookingServer

@Suite("HTTP API: reschedule")
struct RescheduleAPITests {
    @Test(
        "reschedule with the cancel token or admin: same id, sequence up, the old slot free again, the new one taken",
        arguments: StoreKind.allCases)
    func reschedule(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let booked = try object(try await client.book(try bookingBody()))
            #expect(booked["sequence"] as? Int == 0)
            let id = try #require(booked["id"] as? Int)
            let token = try #require(booked["cancel_token"] as? String)
            let response = try await client.reschedule(
                id, try slotBody("2027-03-01T11:00:00Z"), headers: [.cancelToken: token])
            #expect(response.status == .ok)
            #expect(response.headers[.idempotentReplayed] == nil)
            let moved = try object(response)
            #expect(moved["id"] as? Int == id)
            #expect(moved["slot_start"] as? String == "2027-03-01T11:00:00.000Z")
            #expect(moved["slot_end"] as? String == "2027-03-01T11:30:00.000Z")
            #expect(moved["sequence"] as? Int == 1)
            #expect(moved["status"] as? String == "booked")
            #expect(moved["cancel_token"] == nil)
            #expect(
                try await client.freeStarts(from: "2027-03-01T10:00:00Z", to: "2027-03-01T12:00:00Z") == [
                    "2027-03-01T10:00:00.000Z", "2027-03-01T10:30:00.000Z", "2027-03-01T11:30:00.000Z",
                ])
            let byAdmin = try object(
                try await client.reschedule(id, try slotBody("2027-03-01T12:00:00Z"), headers: adminHeaders))
            #expect(byAdmin["sequence"] as? Int == 2)
            // The token in the body, as a cancel takes it; the header wins over it.
            let inBody = try object(
                try await client.reschedule(id, try slotBody("2027-03-01T13:00:00Z", token: token)))
            #expect(inBody["sequence"] as? Int == 3 && inBody["slot_start"] as? String == "2027-03-01T13:00:00.000Z")
            try expectError(
                try await client.reschedule(
                    id, try slotBody("2027-03-01T13:30:00Z", token: token), headers: [.cancelToken: "guess"]),
                .forbidden, code: "FORBIDDEN")
            #expect(
                try await client.execute(uri: "/api/appointments/\(id)", method: .get, headers: [.cancelToken: token])
                    .status == .ok, "the cancel token still works after the moves")
            let notifications = try #require(
                try json(
                    try await client.execute(
                        uri: "/api/notifications?appointment_id=\(id)", method: .get, headers: adminHeaders))
                    as? [[String: Any]])
            #expect(
                notifications.map { $0["kind"] as? String } == ["booked", "rescheduled", "rescheduled", "rescheduled"])
            #expect(notifications.map { $0["sequence"] as? Int } == [0, 1, 2, 3])
            #expect(
                notifications.map { $0["previous_slot_start"] as? String } == [
                    nil, "2027-03-01T10:00:00.000Z", "2027-03-01T11:00:00.000Z", "2027-03-01T12:00:00.000Z",
                ])
            #expect(try await client.book(try bookingBody()).status == .created, "the first slot can be booked again")
        }
    }

    @Test(
        "reschedule: 401 without a credential, a wrong token 403 as a wrong admin token, an unknown id 404",
        arguments: StoreKind.allCases)
    func credentials(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let id = try #require(try object(try await client.book(try bookingBody()))["id"] as? Int)
            let target = try slotBody("2027-03-01T11:00:00Z")
            try expectError(try await client.reschedule(id, target), .unauthorized, code: "UNAUTHORIZED")
            let wrong = try await client.reschedule(id, target, headers: [.cancelToken: "guess"])
            let unknown = try await client.reschedule(id + 1000, target, headers: [.cancelToken: "guess"])
            try expectError(wrong, .forbidden, code: "FORBIDDEN")
            try expectError(unknown, .notFound, code: "NOT_FOUND")
            try expectError(
                try await client.reschedule(id + 1000, target, headers: adminHeaders), .notFound, code: "NOT_FOUND")
            try expectError(
                try await client.reschedule(id, target, headers: [.authorization: "Bearer wrong"]), .forbidden,
                code: "FORBIDDEN")
            let stored = try object(
                try await client.execute(uri: "/api/appointments/\(id)", method: .get, headers: adminHeaders))
            #expect(stored["slot_start"] as? String == "2027-03-01T10:00:00.000Z", "nothing moved")
        }
    }

    @Test(
        "reschedule: 422 for a slot not offered, 409 for another's interval (nothing changed), its own interval is fine, 409 APPOINTMENT_CANCELLED",
        arguments: StoreKind.allCases)
    func refusals(_ kind: StoreKind) async throws {
        let buffered = try Schedule(
            timeZone: TimeZone(identifier: "UTC")!, bufferBefore: .minutes(15), bufferAfter: .minutes(15))
        try await withAPI(kind, schedule: buffered) { client, _ in
            let first = try #require(try object(try await client.book(try bookingBody()))["id"] as? Int)
            let second = try #require(
                try object(try await client.book(try bookingBody("2027-03-01T11:30:00Z")))["id"] as? Int)
            for start in [
                "2027-03-01T10:10:00Z", "2027-02-28T10:00:00Z", "2027-03-10T10:00:00Z", "2027-03-01T20:00:00Z",
            ] {
                try expectError(
                    try await client.reschedule(first, try slotBody(start), headers: adminHeaders),
                    .unprocessableContent, code: "SLOT_NOT_OFFERED")
            }
            // 10:00 with buffers is 09:45-10:45; 10:30 is 10:15-11:15: it overlaps only its own old interval.
            let moved = try object(
                try await client.reschedule(first, try slotBody("2027-03-01T10:30:00Z"), headers: adminHeaders))
            #expect(moved["sequence"] as? Int == 1)
            // 11:00 is 10:45-11:45, into the buffer of the 11:30 booking (11:15-12:15).
            try expectError(
                try await client.reschedule(first, try slotBody("2027-03-01T11:00:00Z"), headers: adminHeaders),
                .conflict, code: "SLOT_UNAVAILABLE")
            let unchanged = try object(
                try await client.execute(uri: "/api/appointments/\(first)", method: .get, headers: adminHeaders))
            #expect(unchanged["slot_start"] as? String == "2027-03-01T10:30:00.000Z")
            #expect(unchanged["sequence"] as? Int == 1)
            #expect(unchanged["updated_at"] as? String == moved["updated_at"] as? String)
            _ = try await client.execute(
                uri: "/api/appointments/\(second)/cancel", method: .post, headers: adminHeaders)
            try expectError(
                try await client.reschedule(second, try slotBody("2027-03-01T14:00:00Z"), headers: adminHeaders),
                .conflict, code: "APPOINTMENT_CANCELLED")
            let kinds = try #require(
                try json(try await client.execute(uri: "/api/notifications", method: .get, headers: adminHeaders))
                    as? [[String: Any]]
            ).map { $0["kind"] as? String }
            #expect(kinds == ["booked", "booked", "rescheduled", "cancelled"])
        }
    }

    @Test(
        "reschedule with an Idempotency-Key: a retry replays (200, Idempotent-Replayed), another target is 422",
        arguments: StoreKind.allCases)
    func idempotentRetries(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let booked = try await client.book(try bookingBody(), headers: [.idempotencyKey: "move-1"])
            let id = try #require(try object(booked)["id"] as? Int)
            let token = try #require(try object(booked)["cancel_token"] as? String)
            let headers: HTTPFields = [.cancelToken: token, .idempotencyKey: "move-1"]
            let first = try await client.reschedule(id, try slotBody("2027-03-01T11:00:00Z"), headers: headers)
            #expect(first.status == .ok)
            #expect(first.headers[.idempotentReplayed] == nil, "a booking key does not name a reschedule")
            let retry = try await client.reschedule(id, try slotBody("2027-03-01T11:00:00Z"), headers: headers)
            #expect(retry.status == .ok)
            #expect(retry.headers[.idempotentReplayed] == "true")
            #expect(try object(retry)["sequence"] as? Int == 1)
            #expect(try object(retry)["slot_start"] as? String == "2027-03-01T11:00:00.000Z")
            try expectError(
                try await client.reschedule(id, try slotBody("2027-03-01T12:00:00Z"), headers: headers),
                .unprocessableContent, code: "IDEMPOTENCY_KEY_REUSED")
            let other = try #require(
                try object(try await client.book(try bookingBody("2027-03-01T14:00:00Z")))["id"] as? Int)
            try expectError(
                try await client.reschedule(
                    other, try slotBody("2027-03-01T11:00:00Z"),
                    headers: adminHeaders.merging([.idempotencyKey: "move-1"])),
                .unprocessableContent, code: "IDEMPOTENCY_KEY_REUSED")
            let notifications = try #require(
                try json(try await client.execute(uri: "/api/notifications", method: .get, headers: adminHeaders))
                    as? [[String: Any]])
            #expect(notifications.filter { $0["kind"] as? String == "rescheduled" }.count == 1)
        }
    }

    @Test(
        "reschedule: 400 for bad bodies, ids and keys, naming the fields; 415 without JSON",
        arguments: StoreKind.allCases)
    func badRequests(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let id = try #require(try object(try await client.book(try bookingBody()))["id"] as? Int)
            try expectError(
                try await client.reschedule(id, ByteBuffer(string: "{not json"), headers: adminHeaders), .badRequest,
                code: "INVALID_INPUT")
            let cases: [(String, [String: String])] = [
                ("{}", ["/slotStart": "is required", "/slotEnd": "is required"]),
                (
                    "{\"slotStart\":5,\"slotEnd\":\"tomorrow\",\"extra\":1}",
                    [
                        "/slotStart": "must be a string",
                        "/slotEnd": "must be an ISO 8601 instant like 2027-03-01T09:00:00Z",
                        "/extra": "is not a known field",
                    ]
                ),
                (
                    "{\"slotStart\":\"2027-03-01T11:00:00Z\",\"slotEnd\":\"2027-03-01T10:30:00Z\"}",
                    ["/slotEnd": "must be after slotStart"]
                ),
            ]
            for (text, problems) in cases {
                let error = try expectError(
                    try await client.reschedule(id, ByteBuffer(string: text), headers: adminHeaders), .badRequest,
                    code: "INVALID_INPUT")
                #expect(fieldProblems(error) == problems, "\(text)")
            }
            let badID = try expectError(
                try await client.reschedule(0, try slotBody("2027-03-01T11:00:00Z"), headers: adminHeaders),
                .badRequest)
            #expect(fieldProblems(badID)["id"] != nil)
            let badKey = try expectError(
                try await client.reschedule(
                    id, try slotBody("2027-03-01T11:00:00Z"), headers: adminHeaders.merging([.idempotencyKey: "a b"])),
                .badRequest)
            #expect(fieldProblems(badKey)["Idempotency-Key"] != nil)
            try expectError(
                try await client.execute(
                    uri: "/api/appointments/\(id)/reschedule", method: .post,
                    headers: adminHeaders.merging([.contentType: "text/plain"]),
                    body: try slotBody("2027-03-01T11:00:00Z")), .unsupportedMediaType)
            let stored = try object(
                try await client.execute(uri: "/api/appointments/\(id)", method: .get, headers: adminHeaders))
            #expect(stored["sequence"] as? Int == 0, "nothing moved")
        }
    }
}

/// `{slotStart, slotEnd}` of a `minutes`-long slot, with `token` when given.
func slotBody(_ start: String, minutes: Int = 30, token: String? = nil) throws -> ByteBuffer {
    let startDate = try #require(ISO8601.parse(start))
    var fields: [String: Any] = [
        "slotStart": start, "slotEnd": startDate.addingTimeInterval(Double(minutes) * 60).iso8601WithMilliseconds,
    ]
    if let token { fields["token"] = token }
    return try body(fields)
}

extension TestClientProtocol {
    /// `POST /api/appointments/:id/reschedule` with a JSON body.
    func reschedule(_ id: Int, _ body: ByteBuffer, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(
            uri: "/api/appointments/\(id)/reschedule", method: .post,
            headers: headers.merging([.contentType: "application/json"]), body: body)
    }

    /// The starts of the free slots between `from` and `to`.
    func freeStarts(from: String, to: String) async throws -> [String] {
        let response = try await execute(uri: "/api/availability?from=\(from)&to=\(to)", method: .get)
        return try #require(try json(response) as? [[String: Any]]).compactMap { $0["start"] as? String }
    }
}
