import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// An error answered as `{"error": "<sentence>", "code": "<CODE>", "details": {...}?}`.
struct APIError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    let details: [String: String]
    /// For 405: the methods the path accepts.
    let allow: String?

    init(
        _ status: HTTPResponse.Status, code: String, _ message: String, details: [String: String] = [:],
        allow: String? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.allow = allow
    }

    /// The HTTP face of a domain error.
    init(_ error: BookingError) {
        let status: HTTPResponse.Status =
            switch error.code {
            case .invalidInput: .badRequest
            case .slotNotOffered, .idempotencyKeyReused: .unprocessableContent
            case .slotUnavailable: .conflict
            case .notFound: .notFound
            case .forbidden: .forbidden
            default: .serviceUnavailable
            }
        self.init(status, code: error.code.description, error.message, details: error.fieldErrors)
    }

    /// Any error, without leaking internals: known ones keep their meaning, the rest are a generic 500.
    init(wrapping error: any Error) {
        switch error {
        case let error as APIError: self = error
        case let error as BookingError: self.init(error)
        case let error as HTTPError where error.status == .contentTooLarge:
            self = .payloadTooLarge
        case let error as HTTPError where error.status == .notFound:
            self.init(.notFound, code: "NOT_FOUND", "No such route.")
        case let error as HTTPError where error.status == .methodNotAllowed:
            self.init(.methodNotAllowed, code: "METHOD_NOT_ALLOWED", "That method is not allowed on this route.")
        case let error as HTTPError where (400..<500).contains(error.status.code):
            self.init(error.status, code: "BAD_REQUEST", "The request could not be understood.")
        default:
            self.init(.internalServerError, code: "INTERNAL_ERROR", "Something went wrong on our side.")
        }
    }

    static let unauthorized = APIError(
        .unauthorized, code: "UNAUTHORIZED",
        "This route needs the admin token (Authorization: Bearer ...) or the cancel token.")

    static let payloadTooLarge = APIError(
        .contentTooLarge, code: "PAYLOAD_TOO_LARGE", "The request body is larger than 16 KiB.")

    static func badRequest(_ message: String, details: [String: String] = [:]) -> APIError {
        APIError(.badRequest, code: "INVALID_INPUT", message, details: details)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: Any] = ["error": message, "code": code]
        if !details.isEmpty { body["details"] = details }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let allow { headers[.allow] = allow }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error into an ``APIError`` response, so clients always get the JSON error shape.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            let apiError = APIError(wrapping: error)
            if apiError.status == .internalServerError {
                context.logger.error(
                    "unexpected error", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            }
            throw apiError
        }
    }
}
