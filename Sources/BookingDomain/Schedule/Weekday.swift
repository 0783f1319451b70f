/// A day of the week, ISO numbered (Monday = 1).
public enum Weekday: Int, Hashable, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Monday.
    case monday = 1
    /// Tuesday.
    case tuesday
    /// Wednesday.
    case wednesday
    /// Thursday.
    case thursday
    /// Friday.
    case friday
    /// Saturday.
    case saturday
    /// Sunday.
    case sunday

    /// The three-letter lowercase name: `mon`, `tue`, ...
    public var description: String {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][rawValue - 1]
    }

    /// Parses a three-letter name (`mon` ... `sun`, any case).
    public init?(abbreviation: String) {
        guard let found = Weekday.allCases.first(where: { $0.description == abbreviation.lowercased() }) else {
            return nil
        }
        self = found
    }

    /// Orders Monday first.
    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.rawValue < rhs.rawValue }
}
