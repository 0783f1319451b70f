/// A wall-clock time of day at minute precision, from 00:00 to 24:00 inclusive.
public struct LocalTime: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Minutes since local midnight, 0...1440.
    public let minutes: Int

    /// Creates a time; `hour` 0...24 and `minute` 0...59, at most 24:00.
    public init(hour: Int, minute: Int = 0) throws(BookingError) {
        guard (0...24).contains(hour), (0...59).contains(minute), hour * 60 + minute <= 1440 else {
            throw .invalidInput(field: "hours", "a time must be between 00:00 and 24:00")
        }
        self.minutes = hour * 60 + minute
    }

    init(uncheckedMinutes minutes: Int) { self.minutes = minutes }

    /// Parses `HH:MM`, e.g. `09:30` or `24:00`.
    public init(parsing text: String) throws(BookingError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { ("0"..."9").contains($0) } }),
            let hour = Int(parts[0]),
            let minute = Int(parts[1])
        else { throw .invalidInput(field: "hours", "'\(text)' is not a time like 09:30") }
        try self.init(hour: hour, minute: minute)
    }

    /// `HH:MM`.
    public var description: String {
        let hour = minutes / 60
        let minute = minutes % 60
        return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }

    /// Orders by time of day.
    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.minutes < rhs.minutes }
}
