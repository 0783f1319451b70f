import BookingDomain
import Foundation

/// The body of `POST /api/appointments/:id/reschedule`: `{slotStart, slotEnd, token?}` (a non-empty `X-Cancel-Token`
/// header wins over `token`, as for a cancel).
struct RescheduleBody: RequestBody {
    /// The slot to move to.
    let slot: TimeSlot
    /// The cancel token, when the body carries it.
    let token: String?

    static let fieldNames: Set<String> = ["slotStart", "slotEnd", "token"]

    init(_ fields: inout FieldReader) throws {
        let slotStart = fields.instant("slotStart")
        let slotEnd = fields.instant("slotEnd")
        token = fields.string("token", required: false)
        try fields.finish()
        guard let slotStart, let slotEnd else { throw BookingError.invalidInput([:]) }
        slot = try TimeSlot(start: slotStart, end: slotEnd)
    }
}
