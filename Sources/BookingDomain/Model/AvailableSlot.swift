public import Foundation

/// A slot free to book, with the seats it has left.
public struct AvailableSlot: Hashable, Sendable {
    /// The slot.
    public var slot: TimeSlot
    /// The seats still free: the resource's capacity minus its booked appointments and live holds; at least 1.
    public var seatsLeft: Int

    /// The slot's start.
    public var start: Date { slot.start }
    /// The slot's end.
    public var end: Date { slot.end }

    /// Creates an available slot.
    public init(slot: TimeSlot, seatsLeft: Int) {
        self.slot = slot
        self.seatsLeft = seatsLeft
    }
}
