import Foundation
import Logging

extension BookingService {
    /// Holds one seat of an offered slot for ``Configuration/holdDuration``, exclusively: until it lapses,
    /// availability leaves that seat out and a booking without the token cannot take it
    /// (``BookingError/Code/slotHeld``). Book with ``BookingRequest/holdToken`` to use it, or
    /// ``releaseHold(token:)`` to give it back.
    ///
    /// The slot must be offered now (``BookingError/Code/slotNotOffered``) and free under the resource's
    /// capacity and limits, as for a booking (``BookingError/Code/slotUnavailable``,
    /// ``BookingError/Code/bookingLimitReached``, ``BookingError/Code/slotHeld``). Expiry is decided with this
    /// service's clock; the store clears lapsed holds in the transaction that needs their slot.
    public func hold(_ request: HoldRequest) async throws(BookingError) -> HoldConfirmation {
        let slot = try TimeSlot.supported(start: request.slotStart, end: request.slotEnd)
        let schedule = try schedule(for: request.resource)
        let now = try clock.checkedNow().roundedToMilliseconds
        try schedule.checkOffered(slot, now: now)
        let token = SecretToken.generate()
        let expiresAt = now.addingTimeInterval(configuration.holdDuration.timeInterval).roundedToMilliseconds
        let hold = try await store.placeHold(
            NewHold(
                resource: request.resource, slot: slot, occupied: schedule.occupiedInterval(of: slot),
                tokenHash: SecretToken.sha256Hex(token), expiresAt: expiresAt, now: now,
                rules: schedule.rules(for: slot)))
        logger.debug("held slot", metadata: ["resource": "\(request.resource.rawValue)"])
        return HoldConfirmation(hold: hold, token: token)
    }

    /// Releases a live hold: its seat is free again at once. ``BookingError/Code/notFound`` when the token
    /// names no live hold (never placed, already used or released, or lapsed).
    public func releaseHold(token: String) async throws(BookingError) {
        if let problem = BookingRequest.holdTokenProblem(token) { throw .invalidInput(field: "token", problem) }
        let now = try clock.checkedNow().roundedToMilliseconds
        guard try await store.releaseHold(tokenHash: SecretToken.sha256Hex(token), now: now) else {
            throw .notFound("hold")
        }
    }
}
