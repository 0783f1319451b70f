import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics

/// The JSON API of DESIGN.md section 5, over a ``BookingDomain/BookingService``.
struct BookingAPI: Sendable {
    let service: BookingService
    /// What `GET /api/resources` lists, in the configured order.
    let resources: [ConfiguredResource]
    let admin: AdminCredential
    /// The calendar files the calendar routes serve.
    let calendarFiles: CalendarFiles
    /// The feeds' secret and keys; `nil` when the feeds are off (every feed request is 404).
    let feedCredential: CalendarFeedCredential?
    /// How far back a feed reaches: appointments that started earlier are left out.
    let feedReach: Duration
    /// The API's counters, made with it.
    let counters = APICounters()
    /// Whether the readiness checks are failing, so an outage logs one warning however often it is probed.
    let readiness = StoreOutage()

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.getAndHead("health") { _, _ in try JSONResponse.make(["ok": true]) }
        router.getAndHead("health/ready") { [readiness] _, context in
            do {
                try await service.checkHealth()
                if readiness.ends() { context.logger.notice("readiness check passes again") }
                return try JSONResponse.make(["ok": true])
            } catch {
                // A probe every few seconds through an outage: one warning, the rest at debug.
                context.logger.log(
                    level: readiness.begins() ? .warning : .debug, "readiness check failed",
                    metadata: ["error": "\(error)"])
                return try JSONResponse.make(["ok": false], status: .serviceUnavailable)
            }
        }
        let api = router.group("api")
        api.getAndHead("availability", use: availability)
        api.getAndHead("schedule", use: schedule)
        api.getAndHead("resources") { _, _ in try JSONResponse.make(resources.map(ResourceJSON.init)) }
        api.post("appointments", use: book)
        api.getAndHead("appointments", use: list)
        api.getAndHead("appointments/:id", use: read)
        api.post("appointments/:id/cancel", use: cancel)
        api.post("appointments/:id/reschedule", use: reschedule)
        addHoldRoutes(to: api)
        addCalendarRoutes(to: api)
        api.getAndHead("notifications", use: notifications)
        api.post("notifications/:id/retry", use: retryNotification)
        api.getAndHead("openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
    }

    @Sendable func availability(_ request: Request, context: BasicRequestContext) async throws -> Response {
        var problems: [String: String] = [:]
        func instant(_ name: String) -> Date? {
            guard let text = request.uri.queryParameters.get(name) else { return nil }
            guard let date = ISO8601.parse(text) else {
                problems[name] = "must be an ISO 8601 instant like 2027-03-01T09:00:00Z"
                return nil
            }
            return date
        }
        let from = instant("from")
        let to = instant("to")
        let resource = Self.resource(request)
        if !problems.isEmpty { throw APIError(BookingError.invalidInput(problems), location: .query) }
        // A name no resource can have is one not configured, as DESIGN §5 says: 404.
        guard let resource else { throw BookingError.notFound("resource") }
        let slots = try await service.availability(resource: resource, from: from, to: to)
        return SlotListJSON.response(slots)
    }

    /// The `resource` query parameter: `default` when absent, `nil` when it is no id any resource can have.
    private static func resource(_ request: Request) -> ResourceID? {
        guard let text = request.uri.queryParameters.get("resource") else { return .default }
        return ResourceID(rawValue: text)
    }

    @Sendable func schedule(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let resource = Self.resource(request) else { throw BookingError.notFound("resource") }
        let schedule = try service.schedule(for: resource)
        let zoneName = resources.first { $0.id == resource }?.timeZoneName ?? schedule.timeZone.identifier
        return try JSONResponse.make(ScheduleJSON(resource: resource, schedule: schedule, timeZoneName: zoneName))
    }

    @Sendable func book(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let key = try IdempotencyKeyHeader.key(of: request)
        let body = try await JSONBody.decode(NewAppointmentBody.self, from: request, context: context)
        do {
            let confirmation = try await service.book(body.request(idempotencyKey: key))
            if confirmation.created { counters.bookings.increment() }
            let headers: HTTPFields = confirmation.created ? [:] : [.idempotentReplayed: "true"]
            return AppointmentJSON(confirmation.appointment, cancelToken: confirmation.cancelToken).response(
                status: .created, headers: headers)
        } catch  where error.code == .slotUnavailable {
            counters.conflicts.increment()
            throw error
        }
    }

    @Sendable func list(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try admin.require(request)
        return try JSONResponse.make(try await service.appointments().map { AppointmentJSON($0) })
    }

    @Sendable func read(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try appointmentID(context)
        // The token travels only in a header (or a cancel's or a move's JSON body), never in the URL, where proxies and
        // logs keep it.
        let authorization = try authorization(request, bodyToken: nil)
        return AppointmentJSON(try await service.appointment(id: id, authorization: authorization)).response()
    }

    @Sendable func cancel(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try appointmentID(context)
        let body = try await JSONBody.decode(CancelBody.self, from: request, context: context, allowEmpty: true)
        let authorization = try authorization(request, bodyToken: body.token)
        let outcome = try await service.cancel(id: id, authorization: authorization)
        if case .cancelled = outcome { counters.cancellations.increment() }
        return AppointmentJSON(outcome.appointment).response()
    }

    @Sendable func reschedule(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try appointmentID(context)
        let key = try IdempotencyKeyHeader.key(of: request)
        let body = try await JSONBody.decode(RescheduleBody.self, from: request, context: context)
        let authorization = try authorization(request, bodyToken: body.token)
        do {
            let confirmation = try await service.reschedule(
                id: id, to: body.slot, authorization: authorization, idempotencyKey: key)
            let headers: HTTPFields = confirmation.replayed ? [.idempotentReplayed: "true"] : [:]
            return AppointmentJSON(confirmation.appointment).response(headers: headers)
        } catch  where error.code == .slotUnavailable {
            counters.conflicts.increment()
            throw error
        }
    }

    @Sendable func notifications(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try admin.require(request)
        var appointmentID: Int64?
        if let text = request.uri.queryParameters.get("appointment_id") {
            guard let id = Self.positiveID(text) else {
                throw APIError(
                    BookingError.invalidInput(field: "appointment_id", "must be a positive integer"), location: .query)
            }
            appointmentID = id
        }
        return try JSONResponse.make(
            try await service.notifications(appointmentID: appointmentID).map(NotificationJSON.init))
    }

    @Sendable func retryNotification(_ request: Request, context: BasicRequestContext) async throws -> Response {
        try admin.require(request)
        let id = try appointmentID(context)
        return try JSONResponse.make(NotificationJSON(try await service.retryNotification(id: id)))
    }

    func appointmentID(_ context: BasicRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Self.positiveID) else {
            throw APIError(BookingError.invalidInput(field: "id", "must be a positive integer"), location: .path)
        }
        return id
    }

    /// The id `text` writes in digits alone (no sign, no space: `Int64` would read "+1" as 1), when positive.
    static func positiveID(_ text: String) -> Int64? {
        guard text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let id = Int64(text), id > 0 else { return nil }
        return id
    }

    /// An admin `Bearer` token first (a wrong one is 403); else the cancel token of `X-Cancel-Token`, or `bodyToken`
    /// (the body's, which a non-empty header wins over); else 401.
    ///
    /// Only the `Bearer` scheme is an admin attempt: another `Authorization` scheme (a proxy's `Basic`,
    /// say) falls through to the cancel token.
    func authorization(_ request: Request, bodyToken: String?) throws -> Authorization {
        switch admin.check(request) {
        case .admin: return .admin
        case .wrong: throw APIError(BookingError.forbidden)
        case .none:
            let header = request.headers[.cancelToken].flatMap { $0.isEmpty ? nil : $0 }
            guard let token = header ?? bodyToken, !token.isEmpty else {
                throw APIError.unauthorized
            }
            return .cancelToken(token)
        }
    }
}

extension HTTPField.Name {
    // safe: the force unwraps below parse constant, valid header names.
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
    static let cancelToken = Self("X-Cancel-Token")!
}
