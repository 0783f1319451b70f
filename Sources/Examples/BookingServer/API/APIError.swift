import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1

/// An error answered as RFC 9457 problem details (`application/problem+json`):
/// `{"type", "title", "status", "detail", "code", "error", "errors": [{"pointer" | "parameter" | "header", "detail"}]}`.
///
/// `code` and `error` (the same sentence as `detail`) are extension members kept for clients of the
/// first API version. `type` is `about:blank`, so `title` is the status's reason phrase; `code` is the
/// machine-readable distinction.
struct APIError: Error, HTTPResponseError {
    /// Where a bad field was: a JSON body member, a query or path parameter, or a header.
    enum FieldLocation: Sendable {
        case body
        case query
        case path
        case header(String)
    }

    let status: HTTPResponse.Status
    let code: String
    let message: String
    let fieldErrors: [String: String]
    let location: FieldLocation
    /// Extra response headers: `Allow` for 405, `Retry-After` for 503 and for a slot someone else holds.
    let headers: HTTPFields

    init(
        _ status: HTTPResponse.Status, code: String, _ message: String, fieldErrors: [String: String] = [:],
        location: FieldLocation = .body, headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.fieldErrors = fieldErrors
        self.location = location
        self.headers = headers
    }

    /// Seconds a client should wait before retrying after a 503.
    static let retryAfterSeconds = 2

    /// The HTTP face of a domain error; `location` says where its fields came from.
    ///
    /// `SLOT_HELD` carries `Retry-After`: the whole seconds from `now` (the service's clock) until the holds in
    /// the way lapse, rounded up, at least 1.
    init(_ error: BookingError, location: FieldLocation = .body, now: Date? = nil) {
        let status: HTTPResponse.Status =
            switch error.code {
            case .invalidInput: .badRequest
            case .slotNotOffered, .idempotencyKeyReused: .unprocessableContent
            case .slotUnavailable, .appointmentCancelled, .alreadyBooked, .bookingLimitReached, .slotHeld,
                .holdExpired:
                .conflict
            case .notFound: .notFound
            case .forbidden: .forbidden
            default: .serviceUnavailable
            }
        var headers: HTTPFields = status == .serviceUnavailable ? [.retryAfter: "\(Self.retryAfterSeconds)"] : [:]
        if error.code == .slotHeld, let availableAt = error.availableAt, let now {
            headers[.retryAfter] = "\(Self.secondsUntil(availableAt, from: now))"
        }
        self.init(
            status, code: error.code.description, error.message, fieldErrors: error.fieldErrors, location: location,
            headers: headers)
    }

    /// Whole seconds from `now` until `instant`, rounded up, at least 1: a `Retry-After` value (whatever the
    /// clock read: a difference past `Int64`'s milliseconds counts as its end).
    static func secondsUntil(_ instant: Date, from now: Date) -> Int64 {
        let (milliseconds, overflow) = instant.millisecondsSince1970.subtractingReportingOverflow(
            now.millisecondsSince1970)
        guard !overflow else { return instant > now ? Int64.max / 1000 : 1 }
        return max(1, milliseconds / 1000 + (milliseconds % 1000 > 0 ? 1 : 0))
    }

    /// Any error, without leaking internals: known ones keep their meaning, the rest are a generic 500.
    init(wrapping error: any Error, now: Date? = nil) {
        switch error {
        case let error as APIError: self = error
        case let error as BookingError: self.init(error, now: now)
        case is CancellationError:
            // The shutdown's timeout cut the request off: the server's state, not a fault of its code.
            self = .shuttingDown
        case let error as HTTPError where error.status == .contentTooLarge:
            self = .payloadTooLarge
        case let error as HTTPError where error.status == .notFound:
            self.init(.notFound, code: "NOT_FOUND", "No such route.")
        case let error as HTTPError where error.status == .methodNotAllowed:
            self.init(.methodNotAllowed, code: "METHOD_NOT_ALLOWED", "That method is not allowed on this route.")
        case let error as HTTPParserError:
            // A body the parser refuses (a malformed chunk) reaches the route that reads it: the same answer as a
            // request head it refuses, and the connection closes after it.
            let problem = UnparsableRequestHandler.problem(for: error)
            self.init(problem.status, code: problem.code, problem.message, headers: [.connection: "close"])
        case let error as HTTPError where (400..<500).contains(error.status.code):
            self.init(error.status, code: "BAD_REQUEST", "The request could not be understood.")
        default:
            self.init(.internalServerError, code: "INTERNAL_ERROR", "Something went wrong on our side.")
        }
    }

    /// A request cut off by the shutdown's timeout: retry it on another process, or once this one is back.
    static let shuttingDown = APIError(
        .serviceUnavailable, code: BookingError.Code.storeUnavailable.description,
        "The server is shutting down; try again.", headers: [.retryAfter: "\(retryAfterSeconds)"])

    static let unauthorized = APIError(
        .unauthorized, code: "UNAUTHORIZED",
        "This route needs the admin token (Authorization: Bearer ...) or the cancel token (X-Cancel-Token).")

    static let adminUnauthorized = APIError(
        .unauthorized, code: "UNAUTHORIZED", "This route needs the admin token (Authorization: Bearer ...).")

    static let payloadTooLarge = APIError(
        .contentTooLarge, code: "PAYLOAD_TOO_LARGE", "The request body is larger than 16 KiB.")

    static let unsupportedMediaType = APIError(
        .unsupportedMediaType, code: "UNSUPPORTED_MEDIA_TYPE",
        "The request body must be JSON, sent with Content-Type: application/json.")

    static func badRequest(_ message: String) -> APIError {
        APIError(.badRequest, code: "INVALID_INPUT", message)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: responseHeaders, body: .init(byteBuffer: ByteBuffer(bytes: try body())))
    }

    /// The problem details, as the body of the response.
    func body() throws -> Data {
        let problem = ProblemDetails(
            type: "about:blank", title: status.reasonPhrase, status: status.code, detail: message, code: code,
            error: message,
            errors: fieldErrors.isEmpty
                ? nil : fieldErrors.sorted { $0.key < $1.key }.map { FieldProblem($0.key, $0.value, at: location) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(problem)
    }

    /// The response's headers but for the body's length: ``headers``, the problem's content type, `no-store`, and
    /// `WWW-Authenticate` on a 401.
    var responseHeaders: HTTPFields {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        fields[.cacheControl] = "no-store"
        if status == .unauthorized { fields[.wwwAuthenticate] = "Bearer" }
        return fields
    }
}

/// The RFC 9457 body of an ``APIError``.
struct ProblemDetails: Encodable {
    let type: String
    let title: String
    let status: Int
    let detail: String
    let code: String
    let error: String
    let errors: [FieldProblem]?
}

/// One bad field: a JSON pointer into the body, or the name of a query/path parameter or header.
struct FieldProblem: Encodable {
    let pointer: String?
    let parameter: String?
    let header: String?
    let detail: String

    /// Domain fields that travel in a header whatever the route: `idempotencyKey` is `Idempotency-Key`.
    private static let headerFields = ["idempotencyKey": "Idempotency-Key"]

    init(_ field: String, _ detail: String, at location: APIError.FieldLocation) {
        self.detail = detail
        switch Self.headerFields[field].map(APIError.FieldLocation.header) ?? location {
        case .body:
            pointer =
                "/"
                + field.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
            parameter = nil
            header = nil
        case .query, .path:
            pointer = nil
            parameter = field
            header = nil
        case .header(let name):
            pointer = nil
            parameter = nil
            header = name
        }
    }
}

/// Turns every error into an ``APIError`` response, so clients always get problem details.
///
/// It answers instead of rethrowing, so the middleware outside it (CORS, metrics, the request log)
/// sees and can decorate an ordinary response. The fields of a domain error on a `GET` (or `HEAD`) are query
/// parameters; on other methods, body members. `clock` is the service's: a `SLOT_HELD`'s `Retry-After` counts
/// from its now.
///
/// A 503's reason goes to the log: at warning for the first of an outage, at debug for the rest of it (see
/// ``StoreOutage``).
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let clock: any WallClock
    let outage = StoreOutage()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            let response = try await next(request, context)
            if Self.reachesTheStore(route: context.endpointPath), outage.ends() {
                context.logger.notice("store answering again")
            }
            return response
        } catch {
            // Cut off by the shutdown: a cancellation, or a store call that failed because its task was cancelled.
            let cutOff = error is CancellationError || Task.isCancelled
            let apiError =
                if cutOff {
                    APIError.shuttingDown
                } else if let error = error as? BookingError {
                    APIError(
                        error, location: [.get, .head].contains(request.method) ? .query : .body, now: clock.now())
                } else {
                    APIError(wrapping: error, now: clock.now())
                }
            if cutOff {
                context.logger.debug("request cut off by the shutdown")
            } else if apiError.status == .internalServerError {
                context.logger.error(
                    "unexpected error", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            } else if apiError.status == .serviceUnavailable, let error = error as? BookingError {
                // A store's reasons are fixed phrases ("the database is busy"), never data or SQL: the operator sees
                // why without the client's answer.
                context.logger.log(
                    level: outage.begins() ? .warning : .debug, "store unavailable",
                    metadata: ["reason": "\(error.message)"])
            }
            return try apiError.response(from: request, context: context)
        }
    }

    /// Whether an answer of `route` shows the store answering: an API route, not one served from the configuration
    /// alone (`/api/resources`, `/api/schedule`, the OpenAPI document), the health check, the metrics or the page.
    static func reachesTheStore(route: String?) -> Bool {
        guard let route, route.hasPrefix("/api/") else { return false }
        return !["/api/resources", "/api/schedule", "/api/openapi.json"].contains(route)
    }
}
