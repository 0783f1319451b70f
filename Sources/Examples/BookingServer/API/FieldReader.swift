import BookingDomain
import Foundation

/// Reads the fields of one JSON object inside a `Decodable` initialiser, collecting every problem
/// (missing, wrong type, malformed, unknown) instead of stopping at the first, then throws them
/// together as one ``BookingDomain/BookingError/Code/invalidInput``.
///
/// ```swift
/// init(from decoder: any Decoder) throws {
///     var fields = try FieldReader(decoder, known: ["token"])
///     token = fields.string("token", required: false)
///     try fields.finish()
/// }
/// ```
struct FieldReader {
    /// Any member name of a JSON object.
    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private let container: KeyedDecodingContainer<Key>
    private var problems: [String: String] = [:]

    /// Opens the object; a member outside `known` is a problem of its own.
    init(_ decoder: any Decoder, known: Set<String>) throws {
        container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys where !known.contains(key.stringValue) {
            problems[key.stringValue] = "is not a known field"
        }
    }

    /// A string member; `null` counts as absent.
    mutating func string(_ name: String, required: Bool) -> String? {
        let key = Key(stringValue: name)
        do {
            if let text = try container.decodeIfPresent(String.self, forKey: key) { return text }
            if required { problems[name] = "is required" }
        } catch {
            problems[name] = "must be a string"
        }
        return nil
    }

    /// A required ISO 8601 instant.
    mutating func instant(_ name: String) -> Date? {
        guard let text = string(name, required: true) else { return nil }
        guard let date = ISO8601.parse(text) else {
            problems[name] = "must be an ISO 8601 instant like 2027-03-01T09:00:00Z"
            return nil
        }
        return date
    }

    /// An optional resource id.
    mutating func resource(_ name: String) -> ResourceID? {
        guard let text = string(name, required: false) else { return nil }
        guard let id = ResourceID(rawValue: text) else {
            problems[name] = "must be 1-64 letters, digits, '-', '_' or '.'"
            return nil
        }
        return id
    }

    /// Throws every problem found, at once.
    func finish() throws(BookingError) {
        if !problems.isEmpty { throw .invalidInput(problems) }
    }
}
