import BookingDomain
import Foundation

/// What a resource's schedule settings accept, and their defaults: the same for the flags of the
/// `default` resource and for each resource of the resources file.
enum ScheduleLimits {
    /// Slot length in minutes.
    static let slotMinutes = NumberSetting(range: 5...1440, fallback: 30)
    /// Booking horizon in days.
    static let daysAhead = NumberSetting(range: 1...366, fallback: 7)
    /// Minimum notice in minutes (up to 366 days).
    static let minNoticeMinutes = NumberSetting(range: 0...527_040, fallback: 0)
    /// A buffer before or after each appointment, in minutes.
    static let bufferMinutes = NumberSetting(range: 0...1440, fallback: 0)
    /// One reminder lead in minutes (up to 366 days); no reminders by default.
    static let reminderMinutes = NumberSetting(range: 1...527_040, fallback: 0)
    /// Seats per slot: how many booked appointments (and live holds) may share one slot.
    static let capacity = NumberSetting(range: 1...10_000, fallback: 1)
    /// A limit of bookings per local day or per ISO week; no limit unless set (the fallback is unused).
    static let periodLimit = NumberSetting(range: 1...100_000, fallback: 0)
    /// How long a hold keeps its slot, in minutes: the same for every resource.
    static let holdMinutes = NumberSetting(range: 1...60, fallback: 5)
    /// The seed's hours.
    static let hours = "daily=09:00-17:00"
    /// The zone of the flags' `default` resource when none is given.
    static let timeZone = "UTC"

    /// What a bad time zone is told.
    static let acceptedTimeZone = "must be an IANA zone like Europe/London or UTC"

    /// The zone `name` names when it is an IANA zone (`Europe/London`, `Etc/GMT-5`, `UTC`, `CET`). An abbreviation
    /// that is no zone of the database (`PST`, `BST`, `IST`) or an offset (`UTC+5`) is not, though Foundation reads
    /// each as some zone: `BST` as Bangladesh's, `IST` as India's, `UTC+5` with the sign that IANA's `Etc/GMT+5`
    /// reverses.
    static func timeZone(named name: String) -> TimeZone? {
        guard !isAbbreviation(name), !isOffset(name) else { return nil }
        return TimeZone(identifier: name)
    }

    /// What a time zone that ``timeZone(named:)`` refuses is told, with the zone to write instead when it can say.
    static func acceptedTimeZone(refusing name: String) -> String {
        if isAbbreviation(name), let zone = TimeZone.abbreviationDictionary[name] {
            return acceptedTimeZone
                + "; \(name) is an abbreviation, which can mean more than one zone (Foundation reads BST as Bangladesh's): write \(zone), say"
        }
        if isOffset(name) {
            return acceptedTimeZone
                + "; \(name) is an offset: write a city's zone, or Etc/GMT-5 for UTC+5 (IANA's Etc names reverse the sign)"
        }
        return acceptedTimeZone
    }

    /// Whether `name` is an abbreviation Foundation maps to a zone, and not itself a zone of the database (as `CET`,
    /// `EST` and `UTC` are).
    private static func isAbbreviation(_ name: String) -> Bool {
        TimeZone.abbreviationDictionary[name] != nil && !TimeZone.knownTimeZoneIdentifiers.contains(name)
            && !FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/" + name)
    }

    private static func isOffset(_ name: String) -> Bool {
        (name.hasPrefix("GMT") || name.hasPrefix("UTC")) && ["+", "-"].contains(name.dropFirst(3).first)
            && name != "GMT+0" && name != "GMT-0"
    }

    /// What bad reminder leads are told.
    static let acceptedReminderMinutes =
        "must be at most 20 distinct whole numbers of minutes from 1 to 527040 before the start, like 1440,60"

    /// Reminder leads from minutes; `nil` when one is out of range, two are equal, or there are more than
    /// ``BookingDomain/Schedule/maximumReminderLeads``.
    static func reminderLeads(minutes: [Int]) -> [Duration]? {
        guard minutes.count <= Schedule.maximumReminderLeads, minutes.allSatisfy(reminderMinutes.range.contains),
            Set(minutes).count == minutes.count
        else {
            return nil
        }
        return minutes.map { .minutes($0) }
    }

    /// Whether one of `intervals` is long enough for a slot of `slotMinutes`: else the schedule would never offer one.
    static func holdsASlot(_ intervals: some Sequence<OpeningInterval>, slotMinutes: Int) -> Bool {
        intervals.contains { $0.close.minutes - $0.open.minutes >= slotMinutes }
    }

    /// What hours that can never hold a slot are told.
    static func holdsNoSlot(_ slotMinutes: Int) -> String {
        acceptedHours("no day is open for one slot of \(slotMinutes) minutes: nothing would ever be offered")
    }

    /// What bad weekly hours are told, with the parser's detail.
    static func acceptedHours(_ detail: String) -> String {
        "must look like mon-fri=09:00-12:00,13:00-17:00;sat=10:00-14:00 (\(detail))"
    }
}
