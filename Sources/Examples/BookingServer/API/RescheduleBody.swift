import BookingDomain
import Foundation

/// The body of `POST /api/appointments/:id/reschedule`: `{slotStart, slotEnd}`.
struct RescheduleBody: Decodable {
    /// The slot to move to.
    let slot: TimeSlot

    init(from decoder: any Decoder) throws {
        var fields = try FieldReader(decoder, known: ["slotStart", "slotEnd"])
        let slotStart = fields.instant("slotStart")
        let slotEnd = fields.instant("slotEnd")
        try fields.finish()
        guard let slotStart, let slotEnd else { throw BookingError.invalidInput([:]) }
        slot = try TimeSlot(start: slotStart, end: slotEnd)
    }
}
