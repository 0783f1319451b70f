public import Foundation

/// A live hold: one seat of a slot taken for everyone but the holder of its token until ``expiresAt``.
public struct SlotHold: Hashable, Sendable {
    /// The resource.
    public var resource: ResourceID
    /// The held slot.
    public var slot: TimeSlot
    /// The instant the hold lapses: from then on it takes nothing, and its token books nothing.
    public var expiresAt: Date

    /// Creates a hold value.
    public init(resource: ResourceID, slot: TimeSlot, expiresAt: Date) {
        self.resource = resource
        self.slot = slot
        self.expiresAt = expiresAt
    }
}
