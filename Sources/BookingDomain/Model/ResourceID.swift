/// Identifies who or what is booked: a person, a room, a chair.
///
/// Each resource has its own schedule; appointments of different resources never conflict.
/// An id is 1-64 characters of letters, digits, `-`, `_` or `.`.
public struct ResourceID: RawRepresentable, Hashable, Sendable, Codable, Comparable,
    ExpressibleByStringLiteral, CustomStringConvertible
{
    /// The id as text.
    public let rawValue: String

    /// The resource used when a caller names none: `"default"`.
    public static let `default` = ResourceID(unchecked: "default")

    /// Creates an id, or returns `nil` when `rawValue` is not a valid id.
    public init?(rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Creates an id from a literal; the literal must be a valid id, and an invalid one traps as a programmer error.
    /// Text read at run time goes through ``parse(_:)`` or ``init(rawValue:)``, which refuse it instead.
    public init(stringLiteral value: String) {
        precondition(Self.isValid(value), "invalid resource id literal")  // a literal is a programmer error
        self.rawValue = value
    }

    /// Parses `text`, throwing ``BookingError/Code/invalidInput`` for field `resource`.
    public static func parse(_ text: String) throws(BookingError) -> ResourceID {
        guard let id = ResourceID(rawValue: text) else {
            throw .invalidInput(field: "resource", "must be 1-64 letters, digits, '-', '_' or '.'")
        }
        return id
    }

    private init(unchecked: String) { self.rawValue = unchecked }

    private static func isValid(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                        || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_" || scalar == ".")
            }
    }

    /// Decodes and validates the id.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = ResourceID(rawValue: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "invalid resource id"))
        }
        self = id
    }

    /// Encodes the raw text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// Orders ids by their text.
    public static func < (lhs: ResourceID, rhs: ResourceID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The raw text.
    public var description: String { rawValue }
}
