import BookingDomain
import Foundation

/// The body of `POST /api/holds`: `{slotStart, slotEnd, resource?}`.
struct HoldBody: Decodable {
    let slotStart: Date
    let slotEnd: Date
    let resource: ResourceID?

    init(from decoder: any Decoder) throws {
        var fields = try FieldReader(decoder, known: ["slotStart", "slotEnd", "resource"])
        let slotStart = fields.instant("slotStart")
        let slotEnd = fields.instant("slotEnd")
        resource = fields.resource("resource")
        try fields.finish()
        guard let slotStart, let slotEnd else { throw BookingError.invalidInput([:]) }
        self.slotStart = slotStart
        self.slotEnd = slotEnd
    }

    /// The domain request.
    var request: HoldRequest {
        HoldRequest(slotStart: slotStart, slotEnd: slotEnd, resource: resource ?? .default)
    }
}
