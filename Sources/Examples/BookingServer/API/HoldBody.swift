import BookingDomain
import Foundation

/// The body of `POST /api/holds`: `{slotStart, slotEnd, resource?}`.
struct HoldBody: RequestBody {
    let slotStart: Date
    let slotEnd: Date
    let resource: ResourceID?

    static let fieldNames: Set<String> = ["slotStart", "slotEnd", "resource"]

    init(_ fields: inout FieldReader) throws {
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
