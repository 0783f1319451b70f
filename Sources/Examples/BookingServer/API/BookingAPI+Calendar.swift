import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The calendar routes: one appointment's file, and a resource's feed for calendar applications.
extension BookingAPI {
    func addCalendarRoutes(to api: RouterGroup<BasicRequestContext>) {
        api.getAndHead("appointments/:id/calendar.ics", use: appointmentCalendar)
        api.getAndHead("resources/:id/calendar.ics", use: feedWithHeader)
        // Calendar applications subscribe to a URL and cannot send headers: the secret is a path segment
        // (never a query string), and the request log writes it as `{secret}`.
        api.getAndHead("resources/:id/calendar/{secret}.ics", use: feedWithSecretInPath)
        api.getAndHead("resources/:id/calendar-feed", use: feedLink)
    }

    /// One appointment as an RFC 5546 message, for its cancel token (`X-Cancel-Token`) or the admin.
    @Sendable func appointmentCalendar(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try appointmentID(context)
        let authorization = try authorization(request, bodyToken: nil)
        let appointment = try await service.appointment(id: id, authorization: authorization)
        let method = AppointmentCalendar.method(for: appointment)
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/calendar; charset=utf-8; method=\(method)", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"appointment-\(id).ics\"",
            ],
            body: .init(
                byteBuffer: ByteBuffer(string: calendarFiles.message(for: appointment, now: service.clock.now()))))
    }

    /// The feed with `Authorization: Bearer <feed secret, the resource's feed key or admin token>`: 401 without
    /// one, 403 for a wrong one (another resource's key included).
    @Sendable func feedWithHeader(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let feedCredential else { throw Self.feedNotFound }
        guard let token = AdminCredential.bearerToken(of: request) else { throw Self.feedUnauthorized }
        let isAdmin = admin.matches(token)
        let isFeedCredential = feedCredential.isSecret(token) || feedCredential.isKey(token)
        guard isAdmin || isFeedCredential else { throw APIError(BookingError.forbidden) }
        guard let resource = configuredResource(context.parameters.get("id")) else {
            throw APIError(BookingError.notFound("resource"), location: .path)
        }
        guard isAdmin || feedCredential.opens(resource, with: token) else { throw APIError(BookingError.forbidden) }
        return try await feed(of: resource, request: request)
    }

    /// The feed with the feed secret or the resource's feed key in the path: a wrong one, an unknown resource and a
    /// feed that is off all answer the same 404.
    @Sendable func feedWithSecretInPath(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let feedCredential, let secret = context.parameters.get("secret"),
            let resource = configuredResource(context.parameters.get("id")),
            feedCredential.opens(resource, with: secret)
        else { throw Self.feedNotFound }
        return try await feed(of: resource, request: request)
    }

    /// For the admin: the path of a resource's feed with its own feed key, which opens that feed and no other
    /// (`{"resource", "path"}`); 404 for an unknown resource or while the feeds are off.
    @Sendable func feedLink(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try admin.require(request)
        guard let resource = configuredResource(context.parameters.get("id")) else {
            throw APIError(BookingError.notFound("resource"), location: .path)
        }
        guard let key = feedCredential?.key(of: resource) else { throw Self.feedNotFound }
        return try JSONResponse.make(
            ["resource": resource.rawValue, "path": "/api/resources/\(resource.rawValue)/calendar/\(key).ics"])
    }

    /// The appointments of `resource` that started within ``feedReach`` or start later, with a strong `ETag` (the
    /// SHA-256 of the body, which has no time of its own) and 304 for a matching `If-None-Match`.
    private func feed(of resource: ResourceID, request: Request) async throws -> Response {
        let from = service.clock.now().addingTimeInterval(-Double(feedReach.components.seconds))
        let appointments = try await service.appointments(of: resource, startingFrom: from)
        let body = calendarFiles.feed(of: resource, appointments: appointments)
        let etag = "\"" + SecretToken.sha256Hex(body) + "\""
        var headers: HTTPFields = [.eTag: etag, .cacheControl: "private, no-cache"]
        if let match = request.headers[.ifNoneMatch],
            Self.entityTags(match).contains(where: { $0 == "*" || $0 == etag })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = "text/calendar; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private func configuredResource(_ text: String?) -> ResourceID? {
        resources.first { $0.id.rawValue == text }?.id
    }

    /// The entity tags of an `If-None-Match` list, weak ones as strong (RFC 9110 compares them weakly).
    static func entityTags(_ header: String) -> [String] {
        header.split(separator: ",").map { tag in
            let trimmed = tag.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("W/") ? String(trimmed.dropFirst(2)) : trimmed
        }
    }

    static let feedNotFound = APIError(.notFound, code: "NOT_FOUND", "No such calendar feed.")

    static let feedUnauthorized = APIError(
        .unauthorized, code: "UNAUTHORIZED",
        "This feed needs the calendar feed secret, the resource's feed key or the admin token (Authorization: Bearer ...), or the secret or key in its path: /api/resources/{id}/calendar/{secret}.ics."
    )
}
