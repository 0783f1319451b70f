import BookingDomain
import BookingTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemoryLogging
import Logging
import NIOCore
import Synchronization
import Testing

@testable import BookingServer

@Suite("hardening: what a careless operator or a hostile caller sends")
struct HardeningTests {
    @Test("no token appears in any log line, whatever route carried it and however", arguments: StoreKind.allCases)
    func tokensNeverLogged(_ kind: StoreKind) async throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "hardening", factory: { _ in handler })
        logger.logLevel = .trace
        let tokens = Tokens()
        try await withAPI(kind, logger: logger) { client, _ in
            let booked = try object(try await client.book(try bookingBody(), headers: [.idempotencyKey: "key-logs"]))
            let id = try #require(booked["id"] as? Int)
            let token = try #require(booked["cancel_token"] as? String)
            tokens.add(token)
            _ = try await client.execute(uri: "/api/appointments/\(id)?token=\(token)", method: .get)
            _ = try await client.execute(uri: "/api/appointments/\(id)?x=\(token)", method: .get, headers: adminHeaders)
            #expect(
                try await client.execute(uri: "/api/appointments/\(id)", method: .get, headers: [.cancelToken: token])
                    .status == .ok)
            _ = try await client.execute(uri: "/api/appointments", method: .get, headers: adminHeaders)
            _ = try await client.execute(uri: "/api/notifications", method: .get, headers: adminHeaders)
            _ = try await client.execute(uri: "/api/notifications/1/retry", method: .post, headers: adminHeaders)
            #expect(
                try await client.reschedule(id, try slotBody("2027-03-01T11:00:00Z", token: token)).status == .ok,
                "a move with the token in its body")
            _ = try await client.reschedule(id, try slotBody("2027-03-01T11:30:00Z", token: token + "x"))
            _ = try await client.execute(
                uri: "/api/appointments/\(id)/cancel", method: .post, headers: [.cancelToken: token + "x"])
            _ = try await client.execute(
                uri: "/api/appointments/\(id)/cancel", method: .post, headers: [.authorization: "Bearer \(token)"])
            #expect(
                try await client.execute(
                    uri: "/api/appointments/\(id)/cancel", method: .post, headers: jsonHeaders,
                    body: try body(["token": token])
                ).status == .ok)
            _ = try await client.execute(
                uri: "/api/availability?from=\(token)&resource=\(String(token.prefix(20)))", method: .get)
            _ = try await client.execute(uri: "/api/schedule?resource=\(token)", method: .get)
            // Tokens pasted into mistyped paths: no route, or the wrong one.
            for mistyped in [
                "/api/appointments/\(token)", "/api/appointments/\(id)/cancel/\(token)", "/\(token)",
                "/api/appointments/\(adminToken)", "/api/\(adminToken)/appointments", "/api/holds/\(token)/x",
                // Mangled: a few characters short, or split by a character a token never has.
                "/api/appointments/\(token.dropLast(3))", "/x/\(token.dropLast(3))",
                "/api/appointments/\(token.prefix(20)).\(token.dropFirst(20))",
            ] {
                _ = try await client.execute(uri: mistyped, method: .get)
            }
        }
        let logged = handler.entries.map { entry in
            "\(entry.message) \(entry.metadata.map { "\($0.key)=\($0.value)" }.joined(separator: " "))"
        }.joined(separator: "\n")
        #expect(handler.entries.count >= 10, "the requests were logged")
        #expect(logged.contains("/api/appointments"), "request lines carry the path")
        for secret in tokens.all + [adminToken] {
            #expect(!logged.contains(secret), "a token was logged:\n\(logged)")
            #expect(!logged.contains(secret.prefix(20)), "most of a token was logged:\n\(logged)")
        }
    }

    @Test(
        "a resource the host never configured (a name no resource can have too) is 404 on availability, booking, hold and schedule; the real slot stays single",
        arguments: StoreKind.allCases)
    func unconfiguredResource(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            #expect(try await client.book(try bookingBody()).status == .created)
            var fields = try #require(
                try JSONSerialization.jsonObject(with: Data(try bookingBody().readableBytesView)) as? [String: Any])
            for name in ["Default", "other", "default2", "no such", "", "dr-é", String(repeating: "a", count: 65)] {
                fields["resource"] = name
                try expectError(try await client.book(try body(fields)), .notFound, code: "NOT_FOUND")
                var hold = fields
                for field in ["name", "email"] { hold[field] = nil }
                try expectError(try await client.hold(try body(hold)), .notFound, code: "NOT_FOUND")
                let query = try #require(name.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
                try expectError(
                    try await client.execute(uri: "/api/availability?resource=\(query)", method: .get), .notFound)
                try expectError(
                    try await client.execute(uri: "/api/schedule?resource=\(query)", method: .get), .notFound)
            }
            // A resource of another type is a bad field (400), as any field of the wrong type.
            fields["resource"] = 7
            try expectError(try await client.book(try body(fields)), .badRequest, code: "INVALID_INPUT")
            fields["resource"] = "default"
            try expectError(try await client.book(try body(fields)), .conflict)
            let all = try #require(
                try json(try await client.execute(uri: "/api/appointments", method: .get, headers: adminHeaders))
                    as? [Any])
            #expect(all.count == 1)
        }
    }

    @Test("an Authorization header of another scheme falls through to the cancel token", arguments: StoreKind.allCases)
    func otherAuthorizationSchemes(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let booked = try object(try await client.book(try bookingBody()))
            let id = try #require(booked["id"] as? Int)
            let token = try #require(booked["cancel_token"] as? String)
            let basic: HTTPFields = [.authorization: "Basic dXNlcjpwYXNz", .cancelToken: token]
            #expect(
                try await client.execute(uri: "/api/appointments/\(id)", method: .get, headers: basic).status == .ok)
            let cancelled = try await client.execute(
                uri: "/api/appointments/\(id)/cancel", method: .post, headers: basic)
            #expect(cancelled.status == .ok)
            try expectError(
                try await client.execute(
                    uri: "/api/appointments", method: .get, headers: [.authorization: "Basic dXNlcjpwYXNz"]),
                .unauthorized)
            try expectError(
                try await client.execute(
                    uri: "/api/appointments/\(id)", method: .get,
                    headers: [.authorization: "Bearer wrong", .cancelToken: token]), .forbidden)
        }
    }

    @Test(
        "a cancel token opens only its own appointment: another's token or a made-up one is 403 and changes nothing; an unknown id is 404",
        arguments: StoreKind.allCases)
    func wrongCancelToken(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let id = try #require(try object(try await client.book(try bookingBody()))["id"] as? Int)
            let other = try object(try await client.book(try bookingBody("2027-03-01T11:00:00Z")))
            let othersToken = try #require(other["cancel_token"] as? String)
            let requests: [(String, HTTPRequest.Method, ByteBuffer?)] = [
                ("", .get, nil), ("/cancel", .post, nil), ("/calendar.ics", .get, nil),
                ("/reschedule", .post, try slotBody("2027-03-01T12:00:00Z")),
            ]
            for (route, method, body) in requests {
                let headers: HTTPFields = body == nil ? [:] : jsonHeaders
                for token in ["guess", othersToken] {
                    try expectError(
                        try await client.execute(
                            uri: "/api/appointments/\(id)\(route)", method: method,
                            headers: headers.merging([.cancelToken: token]), body: body),
                        .forbidden, code: "FORBIDDEN")
                }
                try expectError(
                    try await client.execute(
                        uri: "/api/appointments/\(id + 1000)\(route)", method: method,
                        headers: headers.merging([.cancelToken: othersToken]), body: body),
                    .notFound, code: "NOT_FOUND")
            }
            let stored = try object(
                try await client.execute(uri: "/api/appointments/\(id)", method: .get, headers: adminHeaders))
            #expect(stored["status"] as? String == "booked", "a wrong token changed nothing")
            #expect(stored["slot_start"] as? String == "2027-03-01T10:00:00.000Z")
            #expect(stored["sequence"] as? Int == 0)
        }
    }

    @Test(
        "control characters are a 400 naming the field; the text people write round-trips",
        arguments: StoreKind.allCases)
    func controlCharacters(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            var fields = try #require(
                try JSONSerialization.jsonObject(with: Data(try bookingBody().readableBytesView)) as? [String: Any])
            for (field, value) in [
                ("name", "Ada\u{0}Lovelace"), ("note", "before\u{0}after"), ("name", "Ada\u{1B}[31m"),
                ("note", "C1 \u{85} control"), ("email", "ada\u{0}@example.com"),
            ] {
                var bad = fields
                bad[field] = value
                let error = try expectError(try await client.book(try body(bad)), .badRequest, code: "INVALID_INPUT")
                #expect(fieldProblems(error).keys.sorted() == ["/\(field)"])
            }
            let name = "👩🏽‍💻 می‌خواهم श्री‌मान e\u{301}"
            fields["name"] = name
            fields["note"] = "two\nlines\tand a tab"
            let booked = try object(try await client.book(try body(fields)))
            #expect((booked["customer_name"] as? String).map { Array($0.unicodeScalars) } == Array(name.unicodeScalars))
            #expect(booked["note"] as? String == "two\nlines\tand a tab")
            let all = try #require(
                try json(try await client.execute(uri: "/api/appointments", method: .get, headers: adminHeaders))
                    as? [[String: Any]])
            #expect(all.count == 1)
        }
    }

    @Test("a body that is not application/json is 415 and changes nothing", arguments: StoreKind.allCases)
    func contentTypes(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            for contentType in [
                "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
                "application/jsonx",
                nil,
            ] as [String?] {
                let headers: HTTPFields = contentType.map { [.contentType: $0] } ?? [:]
                try expectError(
                    try await client.execute(
                        uri: "/api/appointments", method: .post, headers: headers, body: try bookingBody()),
                    .unsupportedMediaType, code: "UNSUPPORTED_MEDIA_TYPE")
            }
            let all = try #require(
                try json(try await client.execute(uri: "/api/appointments", method: .get, headers: adminHeaders))
                    as? [Any])
            #expect(all.isEmpty)
            let booked = try await client.execute(
                uri: "/api/appointments", method: .post, headers: [.contentType: "Application/JSON; charset=utf-8"],
                body: try bookingBody())
            #expect(booked.status == .created)
            let booking = try object(booked)
            let id = try #require(booking["id"] as? Int)
            let token = try #require(booking["cancel_token"] as? String)
            try expectError(
                try await client.execute(
                    uri: "/api/appointments/\(id)/cancel", method: .post, headers: [.contentType: "text/plain"],
                    body: try body(["token": token])), .unsupportedMediaType)
            #expect(
                try await client.execute(uri: "/api/appointments/\(id)/cancel", method: .post, headers: adminHeaders)
                    .status == .ok, "a cancel without a body needs no content type")
        }
    }

    @Test(
        "Idempotency-Key: a structured-field string and a bare token name the same key", arguments: StoreKind.allCases)
    func idempotencyKeyForms(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let first = try await client.book(try bookingBody(), headers: [.idempotencyKey: "\"order-7\""])
            #expect(first.status == .created)
            let replay = try await client.book(try bookingBody(), headers: [.idempotencyKey: "order-7"])
            #expect(replay.status == .created && replay.headers[.idempotentReplayed] == "true")
            #expect(try object(first)["id"] as? Int == object(replay)["id"] as? Int)
            let quotedAgain = try await client.book(try bookingBody(), headers: [.idempotencyKey: "\"order-7\""])
            #expect(quotedAgain.headers[.idempotentReplayed] == "true")
            for bad in ["\"unterminated", "\"a\" extra", "\"tab\tinside\""] {
                let error = try expectError(
                    try await client.book(try bookingBody("2027-03-01T12:00:00Z"), headers: [.idempotencyKey: bad]),
                    .badRequest)
                #expect(fieldProblems(error)["Idempotency-Key"] != nil, "\(bad)")
            }
            let spaces = try expectError(
                try await client.book(try bookingBody("2027-03-01T12:00:00Z"), headers: [.idempotencyKey: "a b"]),
                .badRequest)
            #expect(fieldProblems(spaces)["Idempotency-Key"] != nil)
        }
    }

    @Test(
        "a path carrying a secret and a line break is logged redacted, encoded again: no control character reaches the log"
    )
    func redactedPathStaysEncoded() async throws {
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "hardening", factory: { _ in handler })
        try await withAPI(.memory, calendarFeedSecret: feedSecret, logger: logger) { client, _ in
            _ = try await client.execute(
                uri: "/x%0A2026-11-30T00:00:00+0000%20error%20booking-server:%20forged/\(feedSecret)", method: .get)
        }
        let paths = handler.entries.compactMap { $0.metadata["http.path"].map { "\($0)" } }
        #expect(paths == ["/x%0A2026-11-30T00:00:00+0000%20error%20booking-server:%20forged/{secret}"], "\(paths)")
    }

    @Test(
        "a run shaped like a token the host makes is logged as {secret}, whole or inside a segment; words and ids are not"
    )
    func tokenShapedSegments() {
        typealias Log = RequestLogMiddleware<BasicRequestContext>
        let token = SecretToken.generate()
        #expect(token.utf8.count == Log.tokenLength)
        #expect(Log.looksLikeToken(token[...]) && Log.looksLikeToken((token + "A")[...]))
        #expect(Log.looksLikeToken(token.dropLast(11)), "a token pasted eleven characters short still is one")
        for word in [
            String(repeating: "a", count: 43), String(repeating: "dr-lee-", count: 6) + "x", "12345",
            String(token.dropLast(12)), String(token.dropLast(12)) + "=",
        ] {
            #expect(!Log.looksLikeToken(word[...]), "\(word)")
        }
        for (segment, logged) in [
            (token, "{secret}"), ("cancel&token=\(token)", "cancel&token={secret}"),
            ("token=\(token)xyz", "token={secret}"),
            ("\(token.prefix(20))%5F\(token.dropFirst(21))", "{secret}"), ("a%0Ab=\(token)", "a%0Ab%3D{secret}"),
            ("dr-lee", "dr-lee"), ("calendar.ics", "calendar.ics"),
            (String(repeating: "dr-lee-", count: 7), String(repeating: "dr-lee-", count: 7)),
            ("%zz" + token, "%{secret}"),
        ] {
            #expect(Log.redactingTokens(segment[...]) == logged, "\(segment)")
        }
    }

    @Test("the access log's substring search finds a part anywhere, by its UTF-8, and nothing that is not there")
    func loggedPathSearch() {
        typealias Log = RequestLogMiddleware<BasicRequestContext>
        for (text, part, found) in [
            ("/api/holds/abc", "/holds/", true), ("/api/holds", "/holds/", false), ("abc", "abc", true),
            ("abc", "abcd", false), ("xxab", "ab", true), ("abxx", "ab", true), ("aab", "ab", true),
            ("", "", true), ("", "a", false), ("a", "", true), ("zoë%20x", "ë%2", true), ("e\u{301}", "e", true),
            ("aaab", "aab", true),
        ] {
            #expect(Log.contains(text, part) == found, "\(text) \(part)")
            #expect(Log.contains(text[...], part) == found, "\(text) \(part) as a substring")
        }
        #expect(!Log.contains("abxab".dropFirst(1).dropLast(2), "ab"), "only the slice is searched")
        #expect(Log.contains("xabx".dropFirst(1), "ab"))
    }

    @Test("instants are parsed strictly: no February 30, no hour 25, nothing before or after")
    func strictInstants() {
        for bad in [
            "2027-02-30T10:00:00Z", "2026-11-31T12:00:00Z", "2027-03-01T25:00:00Z", "2027-03-01T10:60:00Z",
            "2027-03-01T10:00:00Z\u{0}", "2027-03-01T10:00:00Zjunk", " 2027-03-01T10:00:00Z", "0000-01-01T00:00:00Z",
            "2027-03-01 10:00:00Z", "2027-03-01T10:00:00", "2027-03-01T10:00:00+25:00", "2027-03-01T10:00:00.Z",
            "2027-3-01T10:00:00Z", "2100-02-29T10:00:00Z",
        ] {
            #expect(ISO8601.parse(bad) == nil, "\(bad)")
        }
        for good in [
            "2028-02-29T10:00:00Z", "2000-02-29T00:00:00Z", "2027-03-01T10:00:00.123Z",
            "2027-03-01T10:00:00.123456789+05:45", "2027-03-01T10:00:00-08:00",
        ] {
            #expect(ISO8601.parse(good) != nil, "\(good)")
        }
        #expect(ISO8601.parse("2027-03-01T10:00:00+01:00")?.millisecondsSince1970 == 1_803_891_600_000, "09:00Z")
    }

    @Test(
        "a body in UTF-16, with a byte-order mark, or naming a field twice is a 400 and changes nothing",
        arguments: StoreKind.allCases)
    func bodyEncodings(_ kind: StoreKind) async throws {
        try await withAPI(kind) { client, _ in
            let text = String(buffer: try bookingBody())
            let duplicate = text.replacingOccurrences(of: "\"name\":", with: "\"name\":\"Eve\",\"name\":")
            #expect(duplicate != text)
            for bytes in [
                Array(text.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] },
                [0xEF, 0xBB, 0xBF] + Array(text.utf8),
                Array(duplicate.utf8), Array(text.utf8) + [0xFF],
            ] {
                try expectError(
                    try await client.execute(
                        uri: "/api/appointments", method: .post, headers: jsonHeaders, body: ByteBuffer(bytes: bytes)),
                    .badRequest, code: "INVALID_INPUT")
            }
            for (body, detail) in [
                (#"{"a":1,}"#, "The body is not valid JSON."), ("[]", "The body must be a JSON object."),
                ("null", "The body must be a JSON object."), (duplicate, "The body names a field twice."),
                (#"{"x":[{"k":1,"k":2}]}"#, "The body names a field twice."),
            ] {
                let error = try expectError(
                    try await client.execute(
                        uri: "/api/appointments", method: .post, headers: jsonHeaders, body: ByteBuffer(string: body)),
                    .badRequest, code: "INVALID_INPUT")
                #expect(error["detail"] as? String == detail, "\(body)")
            }
            let nested = "{\"a\":{\"b\":1},\"c\":{\"b\":2},\"d\":[{\"e\":1},{\"e\":2}]}"
            #expect(DuplicateJSONKeys.first(in: Array(nested.utf8)) == nil, "the same key in different objects is fine")
            #expect(
                DuplicateJSONKeys.first(in: Array("{\"n\\u0061me\":1,\"name\":2}".utf8))?.key == "name",
                "escapes are decoded")
            let deep = #"{"resources":[{"id":"a","x":[1,{"k":2}]},{"id":"b","overrides":{"d":1,"e":[],"d":2}}]}"#
            #expect(
                DuplicateJSONKeys.first(in: Array(deep.utf8))
                    == DuplicateJSONKeys.Repeat(path: [.key("resources"), .index(1), .key("overrides")], key: "d"),
                "the repeat is found where it is")
            let all = try #require(
                try json(try await client.execute(uri: "/api/appointments", method: .get, headers: adminHeaders))
                    as? [Any])
            #expect(all.isEmpty)
        }
    }

    @Test(
        "SLOT_HELD's Retry-After is whole seconds rounded up, at least 1, whatever the clock read (NaN, infinite)",
        arguments: [
            (1_500.0, 0.0, 2), (1_000, 0, 1), (0, 0, 1), (-5_000, 0, 1), (1, 0, 1),
            (.infinity, -.infinity, Int64.max / 1000), (-.infinity, .infinity, 1),
            (.nan, 0, 1), (5_000, .nan, 5), (.nan, .nan, 1),
        ] as [(Double, Double, Int64)])
    func retryAfterSeconds(_ lapsesAt: Double, _ now: Double, _ expected: Int64) {
        let seconds = APIError.secondsUntil(
            Date(timeIntervalSince1970: lapsesAt / 1000), from: Date(timeIntervalSince1970: now / 1000))
        #expect(seconds == expected)
    }

    @Test("an outage is one warning: a success of the store ends it, and the next 503 warns again")
    func outageWarnsOnce() async throws {
        final class Switch: Sendable {
            let down = Mutex(true)
        }
        let store = Switch()
        let router = Router()
        router.add(middleware: APIErrorMiddleware(clock: SystemWallClock()))
        router.get("/api/book") { _, _ -> String in
            if store.down.withLock({ $0 }) { throw BookingError.storeUnavailable("the test database is down") }
            return "ok"
        }
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "outage", factory: { _ in handler })
        logger.logLevel = .debug
        try await Application(router: router, logger: logger).test(.router) { client in
            for down in [true, true, true, false, true, true] {
                store.down.withLock { $0 = down }
                let status = try await client.execute(uri: "/api/book", method: .get).status
                #expect(status == (down ? .serviceUnavailable : .ok))
            }
        }
        let logged = handler.entries.filter { $0.message.description == "store unavailable" }
        #expect(logged.map(\.level) == [.warning, .debug, .debug, .warning, .debug])
        let recovered = handler.entries.filter { $0.message.description == "store answering again" }
        #expect(recovered.map(\.level) == [.notice], "the end of the outage is said once")
    }

    @Test("a failing readiness check warns once an outage, however often it is probed, and says when it passes again")
    func readinessWarnsOnce() async throws {
        final class SwitchedHealthStore: ForwardingBookingStore {
            let inner: any BookingStore = InMemoryStoreFactory.make()
            let down = Mutex(true)
            func checkHealth() async throws(BookingError) {
                if down.withLock({ $0 }) { throw .storeUnavailable("the test database is down") }
            }
        }
        let store = SwitchedHealthStore()
        let router = try BookingApplication.router(
            service: BookingService(store: store), resources: standardResources, adminToken: adminToken,
            corsOrigins: [])
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "readiness", factory: { _ in handler })
        logger.logLevel = .debug
        try await Application(router: router, logger: logger).test(.router) { client in
            for down in [true, true, true, false, true, true] {
                store.down.withLock { $0 = down }
                let status = try await client.execute(uri: "/health/ready", method: .get).status
                #expect(status == (down ? .serviceUnavailable : .ok))
            }
        }
        let failed = handler.entries.filter { $0.message.description == "readiness check failed" }
        #expect(failed.map(\.level) == [.warning, .debug, .debug, .warning, .debug])
        let passes = handler.entries.filter { $0.message.description == "readiness check passes again" }
        #expect(passes.map(\.level) == [.notice])
    }

    @Test("a request the shutdown cuts off is a 503 logged at debug, not an unexpected error's 500")
    func cutOffByShutdown() async throws {
        let router = Router()
        router.add(middleware: APIErrorMiddleware(clock: SystemWallClock()))
        router.get("/api/book") { _, _ -> String in throw CancellationError() }
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "shutdown", factory: { _ in handler })
        logger.logLevel = .debug
        try await Application(router: router, logger: logger).test(.router) { client in
            let response = try await client.execute(uri: "/api/book", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "\(APIError.retryAfterSeconds)")
            let body = try object(response)
            #expect(body["error"] as? String == "The server is shutting down; try again.", "\(body)")
        }
        #expect(handler.entries.map(\.level) == [.debug])
        #expect(handler.entries.map(\.message.description) == ["request cut off by the shutdown"])
    }

    @Test(
        "a store call the shutdown cuts off (its task cancelled) is the shutdown's 503 at debug, and starts no outage")
    func storeCallCutOffByShutdown() async throws {
        let router = Router()
        router.add(middleware: APIErrorMiddleware(clock: SystemWallClock()))
        router.get("/api/book") { _, _ -> String in
            // As a store answers once the shutdown cancelled the request's task: storeUnavailable, not a cancellation.
            withUnsafeCurrentTask { $0?.cancel() }
            throw BookingError.storeUnavailable("the operation was cancelled")
        }
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "shutdown", factory: { _ in handler })
        logger.logLevel = .debug
        try await Application(router: router, logger: logger).test(.router) { client in
            // In a task of its own, so the cancel reaches no further than the request.
            let response = try await Task { try await client.execute(uri: "/api/book", method: .get) }.value
            #expect(response.status == .serviceUnavailable)
            #expect(try object(response)["error"] as? String == "The server is shutting down; try again.")
        }
        #expect(handler.entries.map(\.level) == [.debug])
        #expect(handler.entries.map(\.message.description) == ["request cut off by the shutdown"])
    }

    @Test("a configured resource's id is logged as it is, however token-shaped; a token in its place is not")
    func resourceIDsLogged() async throws {
        let longID = "Cardiology-Floor-2-Room-Bravo-01-X"
        let resources = [
            ConfiguredResource(
                id: try ResourceID.parse(longID), name: "Bravo", schedule: .standard(in: TimeZone(identifier: "UTC")!))
        ]
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "hardening", factory: { _ in handler })
        let token = SecretToken.generate()
        try await withAPI(.memory, resources: resources, logger: logger) { client, _ in
            _ = try await client.execute(uri: "/api/resources/\(longID)/calendar.ics", method: .get)
            _ = try await client.execute(uri: "/api/resources/\(token)/calendar.ics", method: .get)
        }
        let paths = handler.entries.compactMap { $0.metadata["http.path"].map { "\($0)" } }
        #expect(paths.contains("/api/resources/\(longID)/calendar.ics"), "\(paths)")
        #expect(paths.contains("/api/resources/{secret}/calendar.ics"), "\(paths)")
        #expect(!paths.contains { $0.contains(token.prefix(20)) }, "\(paths)")
    }

    @Test("a store that does not answer gives 503 with Retry-After")
    func retryAfter() async throws {
        let service = BookingApplication.service(
            store: UnavailableStore(), resources: standardResources, clock: ManualWallClock(now: testNow),
            logger: Logger(label: "x", factory: { _ in SwiftLogNoOpLogHandler() }))
        let router = try BookingApplication.router(
            service: service, resources: standardResources, adminToken: adminToken, corsOrigins: [])
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "hardening", factory: { _ in handler })
        logger.logLevel = .debug
        try await Application(router: router, logger: logger).test(.router) { client in
            let response = try await client.book(try bookingBody())
            try expectError(response, .serviceUnavailable, code: "STORE_UNAVAILABLE")
            #expect(response.headers[.retryAfter] == "2")
            let availability = try await client.execute(uri: "/api/availability", method: .get)
            #expect(availability.status == .serviceUnavailable && availability.headers[.retryAfter] == "2")
            // Served without the store: the outage goes on.
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/api/resources", method: .get).status == .ok)
            #expect(try await client.book(try bookingBody()).status == .serviceUnavailable)
        }
        // The operator sees why in the log: the first 503 of an outage at warning, the rest at debug.
        let logged = handler.entries.filter { $0.message.description == "store unavailable" }
        #expect(logged.map(\.level) == [.warning, .debug, .debug])
        let reasons = Set(logged.map { "\($0.metadata["reason"] ?? "")" })
        #expect(reasons == ["The booking store is unavailable: the test database is down."])
    }

    @Test("cross-origin clients can read Idempotent-Replayed and Retry-After")
    func exposedHeaders() async throws {
        let service = BookingService(store: InMemoryStoreFactory.make())
        let router = try BookingApplication.router(
            service: service, resources: standardResources, adminToken: adminToken,
            corsOrigins: ["https://shop.example"])
        try await Application(router: router).test(.router) { client in
            let response = try await client.execute(
                uri: "/health", method: .get, headers: [.origin: "https://shop.example"])
            let exposed = response.headers[.accessControlExposeHeaders]?.lowercased() ?? ""
            #expect(exposed.contains("idempotent-replayed") && exposed.contains("retry-after"), "\(exposed)")
        }
    }
}

/// Cancel tokens seen during a test, collected across tasks.
final class Tokens: Sendable {
    private let storage = Mutex<[String]>([])
    func add(_ token: String) { storage.withLock { $0.append(token) } }
    var all: [String] { storage.withLock { $0 } }
}
