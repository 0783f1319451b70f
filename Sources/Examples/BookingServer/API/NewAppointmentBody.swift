import BookingDomain
import Foundation

/// The body of `POST /api/appointments`: `{slotStart, slotEnd, name, email, note?, resource?, holdToken?}`.
struct NewAppointmentBody: RequestBody {
    let slotStart: Date
    let slotEnd: Date
    let name: String
    let email: String
    let note: String?
    let resource: ResourceID?
    /// The token of the caller's hold on the slot (`POST /api/holds`), which the booking uses up.
    let holdToken: String?

    static let fieldNames: Set<String> = [
        "slotStart", "slotEnd", "name", "email", "note", "resource", "holdToken",
    ]

    init(_ fields: inout FieldReader) throws {
        let slotStart = fields.instant("slotStart")
        let slotEnd = fields.instant("slotEnd")
        let name = fields.string("name", required: true)
        let email = fields.string("email", required: true)
        note = fields.string("note", required: false)
        resource = fields.resource("resource")
        holdToken = fields.string("holdToken", required: false)
        try fields.finish()
        guard let slotStart, let slotEnd, let name, let email else { throw BookingError.invalidInput([:]) }
        self.slotStart = slotStart
        self.slotEnd = slotEnd
        self.name = name
        self.email = email
    }

    /// The domain request, with the `Idempotency-Key` the header carried.
    func request(idempotencyKey: String?) -> BookingRequest {
        BookingRequest(
            slotStart: slotStart, slotEnd: slotEnd, name: name, email: email, note: note,
            resource: resource ?? .default, idempotencyKey: idempotencyKey, holdToken: holdToken)
    }
}
