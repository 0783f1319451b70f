import BookingDomain
import Foundation

/// The body of `POST /api/appointments/:id/reschedule`: `{slotStart, slotEnd}`.
struct RescheduleBody: RequestBody {
    /// The slot to move to.
    let slot: TimeSlot

    static let fieldNames: Set<String> = ["slotStart", "slotEnd"]

    init(_ fields: inout FieldReader) throws {
        let slotStart = fields.instant("slotStart")
        let slotEnd = fields.instant("slotEnd")
        try fields.finish()
        guard let slotStart, let slotEnd else { throw BookingError.invalidInput([:]) }
        slot = try TimeSlot(start: slotStart, end: slotEnd)
    }
}
