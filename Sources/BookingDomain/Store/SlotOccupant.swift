public import Foundation

/// What takes a place on a resource's calendar: a booked appointment or a live hold.
public struct SlotOccupant: Hashable, Sendable {
    /// The slot it takes (a seat of).
    public var slot: TimeSlot
    /// The slot widened by the buffers.
    public var occupied: TimeSlot
    /// When the hold lapses; `nil` for a booked appointment.
    public var holdExpiresAt: Date?

    /// Creates an occupant.
    public init(slot: TimeSlot, occupied: TimeSlot, holdExpiresAt: Date? = nil) {
        self.slot = slot
        self.occupied = occupied
        self.holdExpiresAt = holdExpiresAt
    }

    /// Whether it is a hold rather than a booked appointment.
    public var isHold: Bool { holdExpiresAt != nil }
}
