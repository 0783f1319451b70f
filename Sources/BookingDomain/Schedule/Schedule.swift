public import Foundation

/// When one resource can be booked: time zone, weekly hours, date overrides, slot length and limits.
///
/// ```swift
/// let schedule = try Schedule(
///     timeZone: TimeZone(identifier: "Europe/London")!,
///     weeklyHours: Schedule.weeklyHours(parsing: "mon-fri=09:00-12:00,13:00-17:00"),
///     slotLength: .minutes(30))
/// ```
///
/// All durations are whole minutes.
public struct Schedule: Hashable, Sendable {
    /// The IANA zone whose wall clock the hours are in.
    public let timeZone: TimeZone
    /// Working intervals per weekday; a missing or empty day is closed.
    public let weeklyHours: [Weekday: [OpeningInterval]]
    /// Dates whose hours replace the weekly ones; an empty list closes the date.
    public let overrides: [LocalDate: [OpeningInterval]]
    /// The length of every slot.
    public let slotLength: Duration
    /// How far ahead of now a slot may end.
    public let horizon: Duration
    /// How far ahead of now a slot must start.
    public let minimumNotice: Duration
    /// Time kept free before each appointment.
    public let bufferBefore: Duration
    /// Time kept free after each appointment.
    public let bufferAfter: Duration
    /// How long before an appointment's start each of its `reminder` notifications is due, longest
    /// first (e.g. 24 hours and 1 hour); empty for none.
    ///
    /// Not part of slot generation: a booking writes one reminder per lead whose moment is still ahead,
    /// a cancel makes them obsolete and a reschedule writes them again for the new start. At most
    /// ``maximumReminderLeads``.
    public let reminderLeads: [Duration]
    /// How many reminder leads a schedule may have: each is a row a booking writes in its transaction.
    public static let maximumReminderLeads = 20
    /// How many booked appointments (and live holds) may share one slot: its seats. 1 for one at a time.
    ///
    /// A different slot whose occupied interval overlaps a taken one still conflicts, whatever the capacity.
    public let capacity: Int
    /// At most this many bookings (and live holds) per local day in ``timeZone``, counted by the day their
    /// slot starts; `nil` for no limit.
    public let dailyLimit: Int?
    /// At most this many bookings (and live holds) per ISO week (Monday to Sunday in ``timeZone``), counted by
    /// the week their slot starts; `nil` for no limit.
    public let weeklyLimit: Int?

    /// Creates a schedule, validating every part.
    ///
    /// Throws ``BookingError/Code/invalidInput`` when intervals of one day overlap, or a duration is
    /// not whole minutes or out of range (slot 1 minute-24 hours, horizon 1 minute-366 days,
    /// notice 0-366 days, buffers 0-24 hours, reminder leads 1 minute-366 days, each lead once), or the notice
    /// and one slot's length together exceed the horizon (no slot could ever be offered), or a count out of
    /// range (capacity 1-10,000, limits 1-100,000).
    public init(
        timeZone: TimeZone,
        weeklyHours: [Weekday: [OpeningInterval]] = Schedule.standardHours,
        overrides: [LocalDate: [OpeningInterval]] = [:],
        slotLength: Duration = .seconds(30 * 60),
        horizon: Duration = .seconds(7 * 86_400),
        minimumNotice: Duration = .zero,
        bufferBefore: Duration = .zero,
        bufferAfter: Duration = .zero,
        reminderLeads: [Duration] = [],
        capacity: Int = 1,
        dailyLimit: Int? = nil,
        weeklyLimit: Int? = nil
    ) throws(BookingError) {
        var problems: [String: String] = [:]
        for (day, intervals) in weeklyHours where Self.overlapping(intervals) {
            problems["hours"] = "intervals on \(day) overlap"
        }
        for (date, intervals) in overrides where Self.overlapping(intervals) {
            problems["overrides"] = "intervals on \(date) overlap"
        }
        let day: Int64 = 86_400
        Self.check(slotLength, "slotLength", 60...day, &problems)
        Self.check(horizon, "horizon", 60...(366 * day), &problems)
        Self.check(minimumNotice, "minimumNotice", 0...(366 * day), &problems)
        Self.check(bufferBefore, "bufferBefore", 0...day, &problems)
        Self.check(bufferAfter, "bufferAfter", 0...day, &problems)
        for lead in reminderLeads { Self.check(lead, "reminderLeads", 60...(366 * day), &problems) }
        if Set(reminderLeads).count != reminderLeads.count { problems["reminderLeads"] = "must not repeat a lead" }
        if reminderLeads.count > Self.maximumReminderLeads {
            problems["reminderLeads"] = "must be at most \(Self.maximumReminderLeads) leads"
        }
        if !(1...10_000).contains(capacity) { problems["capacity"] = "must be between 1 and 10000" }
        if let dailyLimit, !(1...100_000).contains(dailyLimit) {
            problems["dailyLimit"] = "must be between 1 and 100000"
        }
        if let weeklyLimit, !(1...100_000).contains(weeklyLimit) {
            problems["weeklyLimit"] = "must be between 1 and 100000"
        }
        // A slot starts at least the notice ahead and ends at most the horizon ahead: else none is ever offered.
        if problems.isEmpty, minimumNotice + slotLength > horizon {
            problems["minimumNotice"] = "plus slotLength must not exceed horizon, or no slot is ever offered"
        }
        if !problems.isEmpty { throw .invalidInput(problems) }
        self.init(
            validatedTimeZone: timeZone, weeklyHours: weeklyHours, overrides: overrides, slotLength: slotLength,
            horizon: horizon, minimumNotice: minimumNotice, bufferBefore: bufferBefore, bufferAfter: bufferAfter,
            reminderLeads: reminderLeads, capacity: capacity, dailyLimit: dailyLimit, weeklyLimit: weeklyLimit)
    }

    private init(
        validatedTimeZone timeZone: TimeZone, weeklyHours: [Weekday: [OpeningInterval]] = Schedule.standardHours,
        overrides: [LocalDate: [OpeningInterval]] = [:], slotLength: Duration = .seconds(30 * 60),
        horizon: Duration = .seconds(7 * 86_400), minimumNotice: Duration = .zero, bufferBefore: Duration = .zero,
        bufferAfter: Duration = .zero, reminderLeads: [Duration] = [], capacity: Int = 1, dailyLimit: Int? = nil,
        weeklyLimit: Int? = nil
    ) {
        self.timeZone = timeZone
        self.weeklyHours = weeklyHours.mapValues { $0.sorted() }
        self.overrides = overrides.mapValues { $0.sorted() }
        self.slotLength = slotLength
        self.horizon = horizon
        self.minimumNotice = minimumNotice
        self.bufferBefore = bufferBefore
        self.bufferAfter = bufferAfter
        self.reminderLeads = reminderLeads.sorted(by: >)
        self.capacity = capacity
        self.dailyLimit = dailyLimit
        self.weeklyLimit = weeklyLimit
    }

    /// The seed's schedule in `timeZone`: every day 09:00-17:00, 30-minute slots, 7 days ahead, no notice or buffers.
    public static func standard(in timeZone: TimeZone) -> Schedule {
        Schedule(validatedTimeZone: timeZone)
    }

    /// The seed's hours: 09:00-17:00 on every day.
    public static let standardHours = everyDay([OpeningInterval(uncheckedOpen: 9 * 60, close: 17 * 60)])

    /// The same intervals on all seven days.
    public static func everyDay(_ intervals: [OpeningInterval]) -> [Weekday: [OpeningInterval]] {
        Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0, intervals) })
    }

    /// Parses weekly hours such as `mon-fri=09:00-12:00,13:00-17:00;sat=10:00-14:00;sun=closed`.
    ///
    /// Days are `mon` ... `sun`, a range `mon-fri` (it may wrap, `fri-mon`) or `daily`; days not named are closed.
    /// A day named by more than one rule takes the last one's hours, so `daily=09:00-17:00;sun=closed` closes
    /// Sundays; a day's intervals are listed in one rule, separated by commas.
    public static func weeklyHours(parsing text: String) throws(BookingError) -> [Weekday: [OpeningInterval]] {
        var result: [Weekday: [OpeningInterval]] = [:]
        for rule in text.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) where !rule.isEmpty {
            let sides = rule.split(separator: "=", omittingEmptySubsequences: false)
            guard sides.count == 2 else {
                throw .invalidInput(field: "hours", "'\(rule)' is not like mon-fri=09:00-17:00")
            }
            let days = try parseDays(String(sides[0]).trimmingCharacters(in: .whitespaces))
            let intervals = try openingIntervals(parsing: String(sides[1]))
            for day in days { result[day] = intervals }
        }
        return result
    }

    /// Parses one day's hours: intervals such as `09:00-12:00,13:00-17:00`, or `closed` (or nothing) for none.
    ///
    /// The form of a date override (`"2027-12-24": "09:00-12:00"`, `"2027-12-25": "closed"`) and of the
    /// right-hand side of ``weeklyHours(parsing:)``. Overlapping intervals are refused by ``init(timeZone:weeklyHours:overrides:slotLength:horizon:minimumNotice:bufferBefore:bufferAfter:reminderLeads:capacity:dailyLimit:weeklyLimit:)``.
    public static func openingIntervals(parsing text: String) throws(BookingError) -> [OpeningInterval] {
        let value = text.trimmingCharacters(in: .whitespaces)
        if value.lowercased() == "closed" { return [] }
        var intervals: [OpeningInterval] = []
        for part in value.split(separator: ",") {
            intervals.append(try OpeningInterval(parsing: part.trimmingCharacters(in: .whitespaces)))
        }
        return intervals
    }

    private static func parseDays(_ text: String) throws(BookingError) -> [Weekday] {
        if text.lowercased() == "daily" { return Weekday.allCases }
        let ends = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(ends.count), let first = Weekday(abbreviation: ends[0]),
            let last = Weekday(abbreviation: ends[ends.count - 1])
        else { throw .invalidInput(field: "hours", "'\(text)' is not a day like mon, mon-fri or daily") }
        var days = [first]
        var day = first
        while day != last {
            day = Weekday(rawValue: day.rawValue % 7 + 1) ?? .monday
            days.append(day)
        }
        return days
    }

    private static func overlapping(_ intervals: [OpeningInterval]) -> Bool {
        let sorted = intervals.sorted()
        return zip(sorted, sorted.dropFirst()).contains { $0.close > $1.open }
    }

    private static func check(
        _ duration: Duration, _ field: String, _ range: ClosedRange<Int64>, _ problems: inout [String: String]
    ) {
        let (seconds, attoseconds) = duration.saturatingComponents
        if attoseconds != 0 || seconds % 60 != 0 || !range.contains(seconds) {
            problems[field] = "must be whole minutes between \(range.lowerBound / 60) and \(range.upperBound / 60)"
        }
    }
}
