import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemoryStore
import NIOCore
import Testing

@testable import BookingServer

@Suite("the OpenAPI document describes what the server does")
struct OpenAPIDocumentTests: Sendable {
    let document: [String: JSONValue]

    init() throws {
        guard case .object(let root) = try JSONDecoder().decode(JSONValue.self, from: Data(OpenAPIDocument.json.utf8))
        else { throw SchemaViolation("the document is not an object") }
        document = root
    }

    @Test("the OpenAPI document and the router serve the same operations")
    func sameOperations() throws {
        let service = BookingService(store: InMemoryStoreFactory.make())
        let router = try BookingApplication.router(
            service: service, resources: standardResources, adminToken: adminToken, corsOrigins: [])
        // HEAD is GET without the body (RFC 9110): every GET route has its HEAD twin, and the document leaves HEAD out.
        let routes = router.routes.map { ($0.method, Self.openAPIPath($0.path.description)) }
        #expect(
            Set(routes.filter { $0.0 == .head }.map(\.1)) == Set(routes.filter { $0.0 == .get }.map(\.1)),
            "a GET route without HEAD, or a HEAD route without GET")
        let served = Set(routes.filter { $0.0 != .head }.map { "\($0.0.rawValue.lowercased()) \($0.1)" })
        guard case .object(let paths)? = document["paths"] else { throw SchemaViolation("no paths") }
        let documented = Set(
            paths.flatMap { path, operations in
                guard case .object(let operations) = operations else { return [String]() }
                return operations.keys.map { "\($0) \(path)" }
            })
        #expect(
            served.subtracting(["get /app.js", "get /styles.css", "get /favicon.svg", "get /favicon.ico"])
                == documented)
    }

    @Test("every response the routes send matches the schema documented for its status and content type")
    func responsesMatchSchemas() async throws {
        // With a reminder an hour before each start, the outbox lists reminders, pending and obsolete.
        let schedule = try Schedule(timeZone: TimeZone(identifier: "UTC")!, reminderLeads: [.minutes(60)])
        try await withAPI(.memory, schedule: schedule, calendarFeedSecret: feedSecret) { client, _ in
            var checked: Set<String> = []
            func check(
                _ path: String, _ template: String, _ method: HTTPRequest.Method, headers: HTTPFields = [:],
                body: ByteBuffer? = nil
            )
                async throws -> TestResponse
            {
                let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
                try validate(response, path: template, method: method)
                checked.insert("\(method) \(template) \(response.status.code)")
                return response
            }
            _ = try await check("/health", "/health", .get)
            _ = try await check("/health/ready", "/health/ready", .get)
            _ = try await check("/api/availability", "/api/availability", .get)
            _ = try await check("/api/availability?from=x", "/api/availability", .get)
            _ = try await check("/api/schedule", "/api/schedule", .get)
            _ = try await check("/api/schedule?resource=nope", "/api/schedule", .get)
            _ = try await check("/api/resources", "/api/resources", .get)
            let booked = try object(
                try await check(
                    "/api/appointments", "/api/appointments", .post, headers: jsonHeaders, body: try bookingBody()))
            let id = try #require(booked["id"] as? Int)
            let token = try #require(booked["cancel_token"] as? String)
            _ = try await check(
                "/api/appointments", "/api/appointments", .post, headers: jsonHeaders, body: try bookingBody())
            _ = try await check(
                "/api/appointments", "/api/appointments", .post, headers: [.contentType: "text/plain"],
                body: try bookingBody())
            _ = try await check("/api/appointments", "/api/appointments", .get, headers: adminHeaders)
            _ = try await check("/api/appointments", "/api/appointments", .get)
            _ = try await check(
                "/api/appointments/\(id)", "/api/appointments/{id}", .get, headers: [.cancelToken: token])
            let appointmentCalendar = "/api/appointments/{id}/calendar.ics"
            _ = try await check(
                "/api/appointments/\(id)/calendar.ics", appointmentCalendar, .get, headers: [.cancelToken: token])
            _ = try await check(
                "/api/appointments/\(id)/calendar.ics", appointmentCalendar, .get, headers: [.cancelToken: "guess"])
            _ = try await check("/api/appointments/\(id)/calendar.ics", appointmentCalendar, .get)
            let feed = "/api/resources/{id}/calendar.ics"
            _ = try await check("/api/resources/default/calendar.ics", feed, .get, headers: adminHeaders)
            _ = try await check("/api/resources/default/calendar.ics", feed, .get)
            let secretFeed = "/api/resources/{id}/calendar/{secret}.ics"
            let feedResponse = try await check("/api/resources/default/calendar/\(feedSecret).ics", secretFeed, .get)
            _ = try await check(
                "/api/resources/default/calendar/\(feedSecret).ics", secretFeed, .get,
                headers: [.ifNoneMatch: try #require(feedResponse.headers[.eTag])])
            _ = try await check("/api/resources/default/calendar/wrong-secret-0123456789.ics", secretFeed, .get)
            let feedLink = "/api/resources/{id}/calendar-feed"
            _ = try await check("/api/resources/default/calendar-feed", feedLink, .get, headers: adminHeaders)
            _ = try await check("/api/resources/default/calendar-feed", feedLink, .get)
            _ = try await check("/api/resources/nope/calendar-feed", feedLink, .get, headers: adminHeaders)
            let reschedule = "/api/appointments/{id}/reschedule"
            _ = try await check(
                "/api/appointments/\(id)/reschedule", reschedule, .post, headers: adminHeaders.merging(jsonHeaders),
                body: try slotBody("2027-03-01T11:00:00Z"))
            _ = try await check(
                "/api/appointments/\(id)/reschedule", reschedule, .post, headers: adminHeaders.merging(jsonHeaders),
                body: try slotBody("2027-03-01T10:10:00Z"))
            _ = try await check(
                "/api/appointments/\(id)/reschedule", reschedule, .post, headers: jsonHeaders,
                body: ByteBuffer(string: "{}"))
            _ = try await check(
                "/api/appointments/\(id)/cancel", "/api/appointments/{id}/cancel", .post, headers: adminHeaders)
            _ = try await check(
                "/api/appointments/\(id)/reschedule", reschedule, .post, headers: adminHeaders.merging(jsonHeaders),
                body: try slotBody("2027-03-01T12:00:00Z"))
            let held = try object(
                try await check(
                    "/api/holds", "/api/holds", .post, headers: jsonHeaders, body: try slotBody("2027-03-01T13:00:00Z"))
            )
            let holdToken = try #require(held["token"] as? String)
            _ = try await check(
                "/api/holds", "/api/holds", .post, headers: jsonHeaders, body: try slotBody("2027-03-01T13:00:00Z"))
            _ = try await check(
                "/api/holds", "/api/holds", .post, headers: jsonHeaders, body: try slotBody("2027-03-01T13:10:00Z"))
            _ = try await check("/api/holds", "/api/holds", .post, headers: jsonHeaders, body: ByteBuffer(string: "{}"))
            _ = try await check("/api/holds/\(holdToken)", "/api/holds/{token}", .delete)
            _ = try await check("/api/holds/\(holdToken)", "/api/holds/{token}", .delete)
            _ = try await check("/api/notifications", "/api/notifications", .get, headers: adminHeaders)
            _ = try await check(
                "/api/notifications/999/retry", "/api/notifications/{id}/retry", .post, headers: adminHeaders)
            _ = try await check("/api/openapi.json", "/api/openapi.json", .get)
            #expect(
                checked == [
                    "GET /health 200", "GET /health/ready 200", "GET /api/availability 200",
                    "GET /api/availability 400",
                    "GET /api/schedule 200", "GET /api/schedule 404", "GET /api/resources 200",
                    "POST /api/appointments 201",
                    "POST /api/appointments 409", "POST /api/appointments 415", "GET /api/appointments 200",
                    "GET /api/appointments 401", "GET /api/appointments/{id} 200",
                    "GET /api/appointments/{id}/calendar.ics 200", "GET /api/appointments/{id}/calendar.ics 403",
                    "GET /api/appointments/{id}/calendar.ics 401", "GET /api/resources/{id}/calendar.ics 200",
                    "GET /api/resources/{id}/calendar.ics 401", "GET /api/resources/{id}/calendar/{secret}.ics 200",
                    "GET /api/resources/{id}/calendar/{secret}.ics 304",
                    "GET /api/resources/{id}/calendar/{secret}.ics 404", "GET /api/resources/{id}/calendar-feed 200",
                    "GET /api/resources/{id}/calendar-feed 401", "GET /api/resources/{id}/calendar-feed 404",
                    "POST /api/appointments/{id}/cancel 200", "POST /api/appointments/{id}/reschedule 200",
                    "POST /api/appointments/{id}/reschedule 422", "POST /api/appointments/{id}/reschedule 400",
                    "POST /api/appointments/{id}/reschedule 409",
                    "POST /api/holds 201", "POST /api/holds 409", "POST /api/holds 422", "POST /api/holds 400",
                    "DELETE /api/holds/{token} 204", "DELETE /api/holds/{token} 404",
                    "GET /api/notifications 200", "POST /api/notifications/{id}/retry 404", "GET /api/openapi.json 200",
                ])
        }
    }

    /// Validates a JSON response against `paths[template][method].responses[status]`.
    func validate(_ response: TestResponse, path template: String, method: HTTPRequest.Method) throws {
        let status = String(response.status.code)
        guard case .object(let paths)? = document["paths"], case .object(let operations)? = paths[template],
            case .object(let operation)? = operations[method.rawValue.lowercased()],
            case .object(let responses)? = operation["responses"], var declared = responses[status]
        else { throw SchemaViolation("\(method) \(template) answered \(status), which the document does not list") }
        declared = try resolve(declared)
        guard case .object(let declaredResponse) = declared else {
            throw SchemaViolation("\(method) \(template) \(status) is not an object")
        }
        guard case .object(let content)? = declaredResponse["content"] else {
            // Documented without content (a 304): the response must have none.
            guard response.body.readableBytes == 0, response.headers[.contentType] == nil else {
                throw SchemaViolation("\(method) \(template) \(status) has content the document does not describe")
            }
            return
        }
        let contentType = String(response.headers[.contentType]?.split(separator: ";").first ?? "")
        guard case .object(let media)? = content[contentType], let schema = media["schema"] else {
            throw SchemaViolation("\(method) \(template) \(status): content type \(contentType) is not documented")
        }
        let body =
            contentType.hasSuffix("json")
            ? try JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView))
            : .string(String(buffer: response.body))
        try conform(body, to: schema, at: "\(method) \(template) \(status)")
    }

    func resolve(_ value: JSONValue) throws -> JSONValue {
        guard case .object(let object) = value, case .string(let reference)? = object["$ref"] else { return value }
        var current = JSONValue.object(document)
        for part in reference.dropFirst(2).split(separator: "/") {
            guard case .object(let node) = current, let next = node[String(part)] else {
                throw SchemaViolation("unresolved \(reference)")
            }
            current = next
        }
        return try resolve(current)
    }

    func conform(_ value: JSONValue, to schemaValue: JSONValue, at place: String) throws {
        guard case .object(let schema) = try resolve(schemaValue) else { return }
        if case .null = value {
            guard schema["nullable"] == .bool(true) else { throw SchemaViolation("\(place): null where not nullable") }
            return
        }
        switch (schema["type"], value) {
        case (.string("object")?, .object(let object)):
            if case .array(let required)? = schema["required"] {
                for case .string(let key) in required where object[key] == nil {
                    throw SchemaViolation("\(place): required \(key) missing")
                }
            }
            let properties: [String: JSONValue]
            if case .object(let declared)? = schema["properties"] { properties = declared } else { properties = [:] }
            for (key, member) in object {
                if let propertySchema = properties[key] {
                    try conform(member, to: propertySchema, at: "\(place).\(key)")
                } else if !properties.isEmpty || schema["additionalProperties"] == .bool(false) {
                    throw SchemaViolation("\(place): \(key) is not documented")
                }
            }
        case (.string("array")?, .array(let items)):
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() { try conform(item, to: itemSchema, at: "\(place)[\(index)]") }
            }
        case (.string("string")?, .string(let text)):
            if case .array(let allowed)? = schema["enum"], !allowed.contains(.string(text)) {
                throw SchemaViolation("\(place): \(text) is not in the enum")
            }
            if schema["format"] == .string("date-time"),
                (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) == nil
            {
                throw SchemaViolation("\(place): \(text) is not a date-time with milliseconds")
            }
        case (.string("integer")?, .number(let number)):
            if number.rounded() != number { throw SchemaViolation("\(place): \(number) is not an integer") }
        case (.string("boolean")?, .bool), (.string("number")?, .number), (nil, _):
            return
        default:
            throw SchemaViolation("\(place): \(value) does not have type \(String(describing: schema["type"]))")
        }
    }

    static func openAPIPath(_ path: String) -> String { path.hasPrefix("/") ? path : "/" + path }
}

/// A response or document that breaks the OpenAPI document.
struct SchemaViolation: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Any JSON value, decoded exactly (a boolean is never a number).
enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}
