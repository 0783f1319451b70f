import Foundation

extension Schedule {
    /// The rules a store enforces when `slot` is taken: ``capacity`` seats, and the day and week limits
    /// resolved to the local day and ISO week in which `slot` starts.
    public func rules(for slot: TimeSlot) -> BookingRules {
        var limits: [PeriodLimit] = []
        let date = localDate(of: slot.start)
        if let dailyLimit {
            limits.append(PeriodLimit(kind: .day, period: days(from: date, count: 1), limit: dailyLimit))
        }
        if let weeklyLimit {
            limits.append(
                PeriodLimit(kind: .week, period: days(from: weekStart(of: date), count: 7), limit: weeklyLimit))
        }
        return BookingRules(capacity: capacity, periodLimits: limits)
    }

    /// The instants from local midnight of `date` to local midnight `count` days later.
    func days(from date: LocalDate, count: Int) -> TimeSlot {
        let midnight = LocalTime(uncheckedMinutes: 0)
        return TimeSlot(
            uncheckedStart: instant(on: date, at: midnight), end: instant(on: date.adding(days: count), at: midnight))
    }

    /// The Monday of the ISO week of `date`.
    func weekStart(of date: LocalDate) -> LocalDate {
        date.adding(days: 1 - date.weekday.rawValue)
    }

    /// `window` widened to whole local days (and whole ISO weeks with a ``weeklyLimit``) when the schedule
    /// has limits, so that availability counts every booking of a day it shows; `window` itself otherwise.
    func countingWindow(covering window: TimeSlot) -> TimeSlot {
        guard dailyLimit != nil || weeklyLimit != nil else { return window }
        var first = localDate(of: window.start)
        var last = localDate(of: window.end)
        if weeklyLimit != nil {
            first = weekStart(of: first)
            last = weekStart(of: last).adding(days: 6)
        }
        let whole = days(from: first, count: last.daysSinceEpoch - first.daysSinceEpoch + 1)
        return TimeSlot(uncheckedStart: min(whole.start, window.start), end: max(whole.end, window.end))
    }
}
