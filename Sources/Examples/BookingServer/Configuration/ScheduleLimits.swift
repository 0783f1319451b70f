import BookingDomain

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

    /// What bad reminder leads are told.
    static let acceptedReminderMinutes =
        "must be distinct whole numbers of minutes from 1 to 527040 before the start, like 1440,60"

    /// Reminder leads from minutes; `nil` when one is out of range or two are equal.
    static func reminderLeads(minutes: [Int]) -> [Duration]? {
        guard minutes.allSatisfy(reminderMinutes.range.contains), Set(minutes).count == minutes.count else {
            return nil
        }
        return minutes.map { .minutes($0) }
    }

    /// What bad weekly hours are told, with the parser's detail.
    static func acceptedHours(_ detail: String) -> String {
        "must look like mon-fri=09:00-12:00,13:00-17:00;sat=10:00-14:00 (\(detail))"
    }
}
