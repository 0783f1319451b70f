import BookingDomain
import Foundation

/// A configured resource, as `GET /api/resources` lists it: `{"id", "name", "time_zone", "slot_minutes"}`.
struct ResourceJSON: Encodable {
    let id: String
    let name: String
    let timeZone: String
    let slotMinutes: Int64

    enum CodingKeys: String, CodingKey {
        case id, name
        case timeZone = "time_zone"
        case slotMinutes = "slot_minutes"
    }

    init(_ resource: ConfiguredResource) {
        id = resource.id.rawValue
        name = resource.name
        timeZone = resource.schedule.timeZone.identifier
        slotMinutes = resource.schedule.slotLength.components.seconds / 60
    }
}
