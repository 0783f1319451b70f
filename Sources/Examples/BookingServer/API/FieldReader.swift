import BookingDomain
import Foundation

/// Reads the fields of one JSON object inside a request body's initialiser, collecting every problem
/// (missing, wrong type, malformed, unknown) instead of stopping at the first, then throws them
/// together as one ``BookingDomain/BookingError/Code/invalidInput``.
///
/// ```swift
/// init(_ fields: inout FieldReader) throws {
///     token = fields.string("token", required: false)
///     try fields.finish()
/// }
/// ```
struct FieldReader {
    private let members: [String: JSONObjectMembers.Value]
    private var problems: [String: String] = [:]
    /// Whether a resource member is a string no resource id can be.
    private var namesUnknownResource = false

    /// Reads `members`; one outside `known` is a problem of its own.
    init(_ members: [String: JSONObjectMembers.Value], known: Set<String>) {
        self.members = members
        for name in members.keys where !known.contains(name) {
            problems[name] = "is not a known field"
        }
    }

    /// A string member; `null` counts as absent.
    mutating func string(_ name: String, required: Bool) -> String? {
        switch members[name] {
        case .string(let text): return text
        case .other: problems[name] = "must be a string"
        case .null, nil: if required { problems[name] = "is required" }
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

    /// An optional resource id. A string that is no valid id names no configured resource: ``finish()`` answers
    /// it as any resource not configured (404), once the other fields are valid.
    mutating func resource(_ name: String) -> ResourceID? {
        guard let text = string(name, required: false) else { return nil }
        guard let id = ResourceID(rawValue: text) else {
            namesUnknownResource = true
            return nil
        }
        return id
    }

    /// Throws every problem found, at once; then `notFound` for a resource that cannot be configured.
    func finish() throws(BookingError) {
        if !problems.isEmpty { throw .invalidInput(problems) }
        if namesUnknownResource { throw .notFound("resource") }
    }
}
