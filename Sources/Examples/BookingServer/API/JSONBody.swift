import BookingDomain
import Foundation
import Hummingbird
import NIOCore

/// A request body read as one JSON object, with field-by-field checks that report every problem.
struct JSONBody {
    /// The largest body accepted.
    static let limit = 16 * 1024

    private let object: [String: Any]
    private(set) var problems: [String: String] = [:]

    /// Reads the body; an empty body is `{}` when `allowEmpty`.
    ///
    /// A body must come with `Content-Type: application/json` (a charset parameter is fine): any other
    /// type is 415, so a plain HTML form on another site cannot post here without a CORS preflight.
    /// Only an empty body may come without a content type, where `allowEmpty`.
    static func read(_ request: Request, context: some RequestContext, allowEmpty: Bool = false) async throws
        -> JSONBody
    {
        let contentType = request.headers[.contentType]
        if let contentType, !isJSON(contentType) { throw APIError.unsupportedMediaType }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge
        }
        if buffer.readableBytes == 0 && allowEmpty { return JSONBody(object: [:]) }
        guard contentType != nil else { throw APIError.unsupportedMediaType }
        guard
            let parsed = try? JSONSerialization.jsonObject(
                with: Data(buffer.readableBytesView), options: [.fragmentsAllowed])
        else {
            throw APIError.badRequest("The body is not valid JSON.")
        }
        guard let object = parsed as? [String: Any] else {
            throw APIError.badRequest("The body must be a JSON object.")
        }
        return JSONBody(object: object)
    }

    private init(object: [String: Any]) { self.object = object }

    /// Whether a `Content-Type` value is `application/json`, in any case, with or without parameters.
    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    /// A required or optional string field; `null` counts as absent.
    mutating func string(_ field: String, required: Bool) -> String? {
        switch object[field] {
        case nil, is NSNull:
            if required { problems[field] = "is required" }
            return nil
        case let text as String:
            return text
        default:
            problems[field] = "must be a string"
            return nil
        }
    }

    /// A required instant in ISO 8601.
    mutating func instant(_ field: String) -> Date? {
        guard let text = string(field, required: true) else { return nil }
        guard let date = ISO8601.parse(text) else {
            problems[field] = "must be an ISO 8601 instant like 2027-03-01T09:00:00Z"
            return nil
        }
        return date
    }

    /// Rejects fields outside `known`, then throws all collected problems at once.
    mutating func finish(known: Set<String>) throws {
        for field in object.keys where !known.contains(field) { problems[field] = "is not a known field" }
        if !problems.isEmpty { throw APIError(BookingError.invalidInput(problems)) }
    }
}

/// ISO 8601 instants: with or without fractional seconds, `Z` or an offset.
enum ISO8601 {
    static func parse(_ text: String) -> Date? {
        for style in [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()] {
            if let date = try? style.parse(text) { return date }
        }
        return nil
    }
}
