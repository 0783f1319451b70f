import BookingDomain
import BookingTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import BookingServer

let adminToken = "test-admin-token-0123456789"
let adminHeaders: HTTPFields = [.authorization: "Bearer \(adminToken)"]
/// 2027-03-01T08:00:00Z, a Monday.
let testNow = Date(millisecondsSince1970: 1_803_888_000_000)

/// The server's resources without a resources file: `default` on the seed's schedule in UTC.
let standardResources = [ConfiguredResource.flags(.standard(in: TimeZone(identifier: "UTC")!))]

/// Runs `body` against the in-process router on a fresh store of `kind`, configured as the server is:
/// `resources` when given, else one resource, `default`, on `schedule`; the service and the router log to `logger`.
/// Calendar UIDs end in `@booking.example.com`; `calendarFeedSecret` turns the feeds on, which reach
/// `calendarFeedPastDays` back; a hold lasts `holdDuration`.
func withAPI(
    _ kind: StoreKind, schedule: Schedule = .standard(in: TimeZone(identifier: "UTC")!),
    resources: [ConfiguredResource]? = nil, calendarFeedSecret: String? = nil,
    calendarFeedPastDays: Int = ServerSettings.calendarFeedPastDays.fallback, holdDuration: Duration = .minutes(5),
    logger: Logger = Logger(label: "api-tests", factory: { _ in SwiftLogNoOpLogHandler() }),
    _ body: @escaping @Sendable (any TestClientProtocol, ManualWallClock) async throws -> Void
) async throws {
    let (store, tearDown) = try await kind.make()
    let clock = ManualWallClock(now: testNow)
    let resources = resources ?? [.flags(schedule)]
    let service = BookingApplication.service(
        store: store, resources: resources, clock: clock, holdDuration: holdDuration, logger: logger)
    do {
        let router = try BookingApplication.router(
            service: service, resources: resources, adminToken: adminToken, corsOrigins: [],
            calendarDomain: "booking.example.com", calendarFeedSecret: calendarFeedSecret,
            calendarFeedPastDays: calendarFeedPastDays)
        try await Application(router: router, logger: logger).test(.router) { client in try await body(client, clock) }
    } catch {
        await tearDown()
        throw error
    }
    await tearDown()
}

func json(_ response: TestResponse) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView), options: [.fragmentsAllowed])
}

func object(_ response: TestResponse) throws -> [String: Any] {
    try #require(try json(response) as? [String: Any], "body: \(String(buffer: response.body))")
}

func body(_ value: [String: Any]) throws -> ByteBuffer {
    ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: value))
}

/// A booking of the `minutes`-long slot at `start`, with `holdToken` when given.
func bookingBody(
    _ start: String = "2027-03-01T10:00:00Z", minutes: Int = 30, email: String = "ada@example.com",
    holdToken: String? = nil
) throws -> ByteBuffer {
    let startDate = try #require(ISO8601.parse(start))
    var fields: [String: Any] = [
        "slotStart": start, "slotEnd": startDate.addingTimeInterval(Double(minutes) * 60).iso8601WithMilliseconds,
        "name": "Ada Lovelace", "email": email,
    ]
    if let holdToken { fields["holdToken"] = holdToken }
    return try body(fields)
}

extension TestClientProtocol {
    @discardableResult
    func book(_ body: ByteBuffer, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(
            uri: "/api/appointments", method: .post, headers: headers.merging([.contentType: "application/json"]),
            body: body)
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var result = self
        for field in other { result[field.name] = field.value }
        return result
    }
}

/// Asserts the RFC 9457 problem-details shape (with the `error` and `code` extension members) and returns it.
@discardableResult
func expectError(
    _ response: TestResponse, _ status: HTTPResponse.Status, code: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> [String: Any] {
    #expect(response.status == status, "body: \(String(buffer: response.body))", sourceLocation: sourceLocation)
    #expect(response.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
    let error = try object(response)
    #expect(error["type"] as? String == "about:blank", sourceLocation: sourceLocation)
    #expect(error["title"] as? String == response.status.reasonPhrase, sourceLocation: sourceLocation)
    #expect(error["status"] as? Int == Int(response.status.code), sourceLocation: sourceLocation)
    #expect(error["detail"] is String, sourceLocation: sourceLocation)
    #expect(error["error"] as? String == error["detail"] as? String, sourceLocation: sourceLocation)
    if let code { #expect(error["code"] as? String == code, sourceLocation: sourceLocation) }
    return error
}

/// The field problems of a problem-details body, keyed by JSON pointer, parameter or header name.
func fieldProblems(_ error: [String: Any]) -> [String: String] {
    var problems: [String: String] = [:]
    for entry in error["errors"] as? [[String: String]] ?? [] {
        if let key = entry["pointer"] ?? entry["parameter"] ?? entry["header"] { problems[key] = entry["detail"] }
    }
    return problems
}

/// A JSON request body's headers.
let jsonHeaders: HTTPFields = [.contentType: "application/json"]
