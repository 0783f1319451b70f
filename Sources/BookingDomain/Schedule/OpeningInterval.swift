/// A local working interval `[open, close)` within one day, e.g. 09:00-12:00.
public struct OpeningInterval: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// When work starts.
    public let open: LocalTime
    /// When work ends; after `open`.
    public let close: LocalTime

    /// Creates an interval; `close` must be after `open`.
    public init(open: LocalTime, close: LocalTime) throws(BookingError) {
        guard close > open else { throw .invalidInput(field: "hours", "\(open)-\(close) must close after it opens") }
        self.open = open
        self.close = close
    }

    init(uncheckedOpen open: Int, close: Int) {
        self.open = LocalTime(uncheckedMinutes: open)
        self.close = LocalTime(uncheckedMinutes: close)
    }

    /// Parses `HH:MM-HH:MM`.
    public init(parsing text: String) throws(BookingError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw .invalidInput(field: "hours", "'\(text)' is not an interval like 09:00-17:00")
        }
        try self.init(open: LocalTime(parsing: String(parts[0])), close: LocalTime(parsing: String(parts[1])))
    }

    /// `HH:MM-HH:MM`.
    public var description: String { "\(open)-\(close)" }

    /// Orders by opening time.
    public static func < (lhs: OpeningInterval, rhs: OpeningInterval) -> Bool {
        (lhs.open, lhs.close) < (rhs.open, rhs.close)
    }
}
