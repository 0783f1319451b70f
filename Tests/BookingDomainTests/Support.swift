import BookingDomain
import Foundation

/// Parses an ISO 8601 instant for test fixtures.
func instant(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions =
        text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
    guard let date = formatter.date(from: text) else { preconditionFailure("bad fixture instant \(text)") }
    return date
}

/// Formats an instant as `2027-03-14T05:00:00Z`.
func iso(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
}

func zone(_ identifier: String) -> TimeZone {
    guard let zone = TimeZone(identifier: identifier) else { preconditionFailure("unknown zone \(identifier)") }
    return zone
}

/// A schedule open on every day with the given hours.
func dailySchedule(_ zoneID: String, _ hours: String, slotMinutes: Int = 30, horizonDays: Int = 7) throws -> Schedule {
    try Schedule(
        timeZone: zone(zoneID), weeklyHours: Schedule.weeklyHours(parsing: "daily=\(hours)"),
        slotLength: .minutes(slotMinutes), horizon: .seconds(horizonDays * 86_400))
}

/// The slots of one local date.
func slots(of schedule: Schedule, on date: String) throws -> [TimeSlot] {
    let day = try LocalDate(parsing: date)
    let midnight = try LocalTime(hour: 0)
    return schedule.slots(
        from: schedule.instant(on: day, at: midnight), to: schedule.instant(on: day.adding(days: 1), at: midnight))
}
