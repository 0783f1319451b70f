import BookingDomain
import Foundation
import Hummingbird
import NIOCore

/// Request bodies: JSON objects decoded into `Decodable` types whose initialisers read their fields
/// through ``FieldReader``, so every bad field is reported at once.
enum JSONBody {
    /// The largest body accepted.
    static let limit = 16 * 1024

    /// The one decoder of request bodies.
    private static let decoder = JSONDecoder()

    /// Reads and decodes the body as `Body`; an empty body decodes as `{}` when `allowEmpty`.
    ///
    /// A body must come with `Content-Type: application/json` (a charset parameter is fine): any other
    /// type is 415, so a plain HTML form on another site cannot post here without a CORS preflight.
    /// Only an empty body may come without a content type, where `allowEmpty`. The body must be one
    /// JSON object in UTF-8 that names no field twice; `Body`'s fields are then checked all at once.
    static func decode<Body: Decodable>(
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
        let decoded = Result { try decoder.decode(Body.self, from: Data(bytes)) }
        if case .failure(let error as DecodingError) = decoded {
            // The fields report their own problems, so what reaches here is about the whole body.
            if case .typeMismatch = error { throw APIError.badRequest("The body must be a JSON object.") }
            throw APIError.badRequest("The body is not valid JSON.")
        }
        // Valid JSON: a field named twice is refused before any verdict on the fields.
        guard !DuplicateJSONKeys.found(in: bytes) else { throw APIError.badRequest("The body names a field twice.") }
        return try decoded.get()
    }

    /// Whether a `Content-Type` value is `application/json`, in any case, with or without parameters.
    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }
}

/// ISO 8601 instants: with or without fractional seconds, `Z` or an offset.
///
/// The shape is checked strictly first (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, every field in
/// range, nothing before or after), because Foundation's parser is lenient: it reads February 30 as
/// March 2 and hour 25 as the next day, and ignores trailing text.
enum ISO8601 {
    static func parse(_ text: String) -> Date? {
        guard isWellFormed(Array(text.utf8)) else { return nil }
        for style in [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()] {
            if let date = try? style.parse(text) { return date }
        }
        return nil
    }

    private static func isWellFormed(_ bytes: [UInt8]) -> Bool {
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ index: Int, is character: Unicode.Scalar) -> Bool {
            index < bytes.count && bytes[index] == UInt8(ascii: character)
        }
        guard let year = number(0..<4), byte(4, is: "-"), let month = number(5..<7), byte(7, is: "-"),
            let day = number(8..<10), byte(10, is: "T"), let hour = number(11..<13), byte(13, is: ":"),
            let minute = number(14..<16), byte(16, is: ":"), let second = number(17..<19),
            (1...9999).contains(year), (1...12).contains(month), (1...daysIn(month, of: year)).contains(day),
            hour <= 23, minute <= 59, second <= 59
        else { return false }
        var index = 19
        if byte(index, is: ".") {
            let digits = bytes[(index + 1)...].prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }.count
            guard (1...9).contains(digits) else { return false }
            index += 1 + digits
        }
        if byte(index, is: "Z") { return index + 1 == bytes.count }
        guard byte(index, is: "+") || byte(index, is: "-"), let hours = number((index + 1)..<(index + 3)),
            byte(index + 3, is: ":"), let minutes = number((index + 4)..<(index + 6))
        else { return false }
        return hours <= 23 && minutes <= 59 && index + 6 == bytes.count
    }

    private static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
