import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BookingServer

let adminToken = "test-admin-token-0123456789"
let adminHeaders: HTTPFields = [.authorization: "Bearer \(adminToken)"]
/// 2027-03-01T08:00:00Z, a Monday.
let testNow = Date(millisecondsSince1970: 1_803_888_000_000)

/// Runs `body` against the in-process router on a fresh store of `kind`.
func withAPI(
    _ kind: StoreKind, schedule: Schedule = .standard(in: TimeZone(identifier: "UTC")!),
    _ body: @escaping @Sendable (any TestClientProtocol, ManualWallClock) async throws -> Void
) async throws {
    let (store, tearDown) = try await kind.make()
    let clock = ManualWallClock(now: testNow)
    let service = BookingService(store: store, configuration: .init(defaultSchedule: schedule), clock: clock)
    let router = try BookingApplication.router(service: service, adminToken: adminToken, corsOrigins: [])
    do {
        try await Application(router: router).test(.router) { client in try await body(client, clock) }
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

func bookingBody(_ start: String = "2027-03-01T10:00:00Z", minutes: Int = 30, email: String = "ada@example.com") throws
    -> ByteBuffer
{
    let startDate = try #require(ISO8601.parse(start))
    return try body([
        "slotStart": start, "slotEnd": startDate.addingTimeInterval(Double(minutes) * 60).iso8601WithMilliseconds,
        "name": "Ada Lovelace", "email": email,
    ])
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

/// Asserts the JSON error shape and returns its code.
@discardableResult
func expectError(
    _ response: TestResponse, _ status: HTTPResponse.Status, code: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> [String: Any] {
    #expect(response.status == status, "body: \(String(buffer: response.body))", sourceLocation: sourceLocation)
    let error = try object(response)
    #expect(error["error"] is String, sourceLocation: sourceLocation)
    if let code { #expect(error["code"] as? String == code, sourceLocation: sourceLocation) }
    return error
}
