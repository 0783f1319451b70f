import BookingDomain
import Foundation
import Hummingbird
import NIOCore

/// Request bodies: JSON objects read by ``JSONObjectMembers`` into ``RequestBody`` types, whose
/// initialisers read their fields through ``FieldReader``, so every bad field is reported at once.
enum JSONBody {
    /// The largest body accepted.
    static let limit = 16 * 1024

    /// Reads and decodes the body as `Body`; an empty body decodes as `{}` when `allowEmpty`.
    ///
    /// A body must come with `Content-Type: application/json` (a charset parameter is fine): any other
    /// type is 415, so a plain HTML form on another site cannot post here without a CORS preflight.
    /// Only an empty body may come without a content type, where `allowEmpty`. The body must be one
    /// JSON object in UTF-8 that names no field twice; `Body`'s fields are then checked all at once.
    static func decode<Body: RequestBody>(
        _ type: Body.Type, from request: Request, context: some RequestContext, allowEmpty: Bool = false
    ) async throws -> Body {
        let contentType = request.headers[.contentType]
        if let contentType, !isJSON(contentType) { throw APIError.unsupportedMediaType }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge
        }
        var bytes = Array(buffer.readableBytesView)
        if bytes.isEmpty && allowEmpty {
            bytes = Array("{}".utf8)
        } else {
            guard contentType != nil else { throw APIError.unsupportedMediaType }
        }
        // JSON travels as UTF-8 (RFC 8259): no byte-order mark, no raw NUL (how UTF-16 looks), valid sequences.
        guard !bytes.contains(0), bytes.first != 0xEF, bytes.first != 0xFE, bytes.first != 0xFF,
            String(validating: bytes, as: UTF8.self) != nil
        else {
            throw APIError.badRequest("The body must be JSON in UTF-8.")
        }
        let members: [String: JSONObjectMembers.Value]
        do {
            members = try JSONObjectMembers.read(bytes)
        } catch .notJSON {
            throw APIError.badRequest("The body is not valid JSON.")
        } catch .notAnObject {
            throw APIError.badRequest("The body must be a JSON object.")
        } catch .repeatedKey {
            // Valid JSON: a field named twice is refused before any verdict on the fields.
            throw APIError.badRequest("The body names a field twice.")
        }
        var fields = FieldReader(members, known: Body.fieldNames)
        return try Body(&fields)
    }

    /// Whether a `Content-Type` value is `application/json`, in any case, with or without parameters.
    static func isJSON(_ contentType: String) -> Bool {
        if contentType == "application/json" || contentType == "application/json; charset=utf-8" { return true }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }
}
