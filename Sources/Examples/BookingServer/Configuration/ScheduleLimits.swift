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
    /// The seed's hours.
    static let hours = "daily=09:00-17:00"
    /// The zone of the flags' `default` resource when none is given.
    static let timeZone = "UTC"

    /// What a bad time zone is told.
    static let acceptedTimeZone = "must be an IANA zone like Europe/London or UTC"

    /// What bad weekly hours are told, with the parser's detail.
    static func acceptedHours(_ detail: String) -> String {
        "must look like mon-fri=09:00-12:00,13:00-17:00;sat=10:00-14:00 (\(detail))"
    }
}
