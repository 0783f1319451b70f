import BookingDomain
import Foundation

/// One resource the host serves: its id, the name people see, and its schedule.
///
/// Without a resources file the host serves one, `default`, described by the schedule flags.
struct ConfiguredResource: Sendable, Equatable {
    let id: ResourceID
    /// The display name: 1-200 characters, the id when the file gives none.
    let name: String
    let schedule: Schedule
    /// The schedule's zone named as configured: Foundation on Linux names the zone `UTC` `GMT`, and people
    /// who wrote `UTC` should read `UTC` back.
    let timeZoneName: String

    /// A resource whose zone is shown as `timeZoneName`, or as Foundation names it when that is nil.
    init(id: ResourceID, name: String, schedule: Schedule, timeZoneName: String? = nil) {
        self.id = id
        self.name = name
        self.schedule = schedule
        self.timeZoneName = timeZoneName ?? schedule.timeZone.identifier
    }

    /// The resource `default` on `schedule`, its zone configured as `timeZoneName`: what the flags describe.
    static func flags(_ schedule: Schedule, timeZoneName: String? = nil) -> ConfiguredResource {
        ConfiguredResource(
            id: .default, name: ResourceID.default.rawValue, schedule: schedule, timeZoneName: timeZoneName)
    }
}
