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

    /// The resource `default` on `schedule`: what the flags describe.
    static func flags(_ schedule: Schedule) -> ConfiguredResource {
        ConfiguredResource(id: .default, name: ResourceID.default.rawValue, schedule: schedule)
    }
}
