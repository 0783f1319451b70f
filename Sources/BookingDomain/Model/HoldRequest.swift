public import Foundation

/// A request to hold a slot (or one of its seats) for a few minutes while the customer types their details.
public struct HoldRequest: Hashable, Sendable {
    /// Start of the slot.
    public var slotStart: Date
    /// End of the slot.
    public var slotEnd: Date
    /// The resource; `default` when there is only one.
    public var resource: ResourceID

    /// Creates a request.
    public init(slotStart: Date, slotEnd: Date, resource: ResourceID = .default) {
        self.slotStart = slotStart
        self.slotEnd = slotEnd
        self.resource = resource
    }
}
