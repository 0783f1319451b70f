import BookingDomain
import Foundation

/// A placed hold, as `POST /api/holds` answers it: `{"token", "resource", "slot_start", "slot_end", "expires_at"}`.
///
/// The token is shown this once (only its SHA-256 is stored): it books the held slot (`holdToken`) or
/// releases it (`DELETE /api/holds/{token}`).
struct HoldJSON: Encodable {
    let token: String
    let resource: String
    let slotStart: String
    let slotEnd: String
    let expiresAt: String

    enum CodingKeys: String, CodingKey {
        case token, resource
        case slotStart = "slot_start"
        case slotEnd = "slot_end"
        case expiresAt = "expires_at"
    }

    init(_ confirmation: HoldConfirmation) {
        token = confirmation.token
        resource = confirmation.hold.resource.rawValue
        slotStart = confirmation.hold.slot.start.iso8601WithMilliseconds
        slotEnd = confirmation.hold.slot.end.iso8601WithMilliseconds
        expiresAt = confirmation.hold.expiresAt.iso8601WithMilliseconds
    }
}
