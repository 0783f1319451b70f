/// A calendar date without a time zone (proleptic Gregorian), e.g. 2027-03-14.
public struct LocalDate: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public let daysSinceEpoch: Int

    /// Creates the date `year-month-day`; throws for an impossible date such as 2027-02-30.
    public init(year: Int, month: Int, day: Int) throws(BookingError) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...LocalDate.daysIn(month: month, year: year)).contains(day)
        else { throw .invalidInput(field: "date", "\(year)-\(month)-\(day) is not a date") }
        self.daysSinceEpoch = LocalDate.days(year: year, month: month, day: day)
    }

    /// Parses `YYYY-MM-DD`.
    public init(parsing text: String) throws(BookingError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { ("0"..."9").contains($0) } }), let year = Int(parts[0]),
            let month = Int(parts[1]), let day = Int(parts[2])
        else { throw .invalidInput(field: "date", "'\(text)' is not a date like 2027-03-14") }
        try self.init(year: year, month: month, day: day)
    }

    /// The most days from 1970-01-01 a date may be, either way: 2^40 (about three billion years), so that its
    /// calendar arithmetic never overflows.
    public static let maximumDaysFromEpoch = 1 << 40

    /// Creates the date a number of days after 1970-01-01; a count beyond ``maximumDaysFromEpoch`` either way
    /// counts as that bound.
    public init(daysSinceEpoch: Int) {
        self.daysSinceEpoch = min(max(daysSinceEpoch, -Self.maximumDaysFromEpoch), Self.maximumDaysFromEpoch)
    }

    /// The date `count` days later (earlier when negative), within ``maximumDaysFromEpoch``.
    public func adding(days count: Int) -> LocalDate {
        let (sum, overflow) = daysSinceEpoch.addingReportingOverflow(count)
        return LocalDate(daysSinceEpoch: overflow ? (count < 0 ? .min : .max) : sum)
    }

    /// The day of the week.
    public var weekday: Weekday {
        // 1970-01-01 was a Thursday (ISO 4).
        let iso = ((daysSinceEpoch % 7) + 7 + 3) % 7 + 1
        return Weekday(rawValue: iso) ?? .monday
    }

    /// Year, month and day.
    public var components: (year: Int, month: Int, day: Int) {
        // Howard Hinnant's civil_from_days.
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        let (year, month, day) = components
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// Orders chronologically.
    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    /// Days since 1970-01-01 of `year-month-day` in the proleptic Gregorian calendar, for any year (month and day
    /// valid).
    static func days(year: Int, month: Int, day: Int) -> Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
