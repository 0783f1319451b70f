import BookingDomain
import Foundation

/// A configured resource, as `GET /api/resources` lists it:
/// `{"id", "name", "time_zone", "slot_minutes", "capacity", "daily_limit", "weekly_limit"}`, the limits `null`
/// when there are none.
struct ResourceJSON: Encodable {
    let id: String
    let name: String
    let timeZone: String
    let slotMinutes: Int64
    let capacity: Int
    let dailyLimit: Nullable<Int>
    let weeklyLimit: Nullable<Int>

    enum CodingKeys: String, CodingKey {
        case id, name, capacity
        case timeZone = "time_zone"
        case slotMinutes = "slot_minutes"
        case dailyLimit = "daily_limit"
        case weeklyLimit = "weekly_limit"
    }

    init(_ resource: ConfiguredResource) {
        id = resource.id.rawValue
        name = resource.name
        timeZone = resource.timeZoneName
        slotMinutes = resource.schedule.slotLength.components.seconds / 60
        capacity = resource.schedule.capacity
        dailyLimit = Nullable(resource.schedule.dailyLimit)
        weeklyLimit = Nullable(resource.schedule.weeklyLimit)
    }
}
