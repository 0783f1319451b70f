public import Foundation

/// A half-open interval of instants, `[start, end)`.
///
/// Used for bookable slots and for the occupied interval of an appointment
/// (its slot widened by the schedule's buffers).
public struct TimeSlot: Hashable, Sendable, Codable, Comparable {
    /// The first instant in the interval.
    public let start: Date
    /// The first instant after the interval.
    public let end: Date

    /// Creates `[start, end)`; `end` must be after `start`.
    public init(start: Date, end: Date) throws(BookingError) {
        guard end > start else { throw .invalidInput(field: "slotEnd", "must be after slotStart") }
        self.start = start
        self.end = end
    }

    init(uncheckedStart start: Date, end: Date) {
        self.start = start
        self.end = end
    }

    /// The length of the interval in seconds.
    public var duration: TimeInterval { end.timeIntervalSince(start) }

    /// Whether every instant of `other` is in this interval.
    public func contains(_ other: TimeSlot) -> Bool { start <= other.start && other.end <= end }

    /// Whether the two half-open intervals share at least one instant.
    public func overlaps(_ other: TimeSlot) -> Bool { start < other.end && other.start < end }

    /// The interval widened by `before` at the start and `after` at the end (seconds).
    public func widened(before: TimeInterval, after: TimeInterval) -> TimeSlot {
        TimeSlot(uncheckedStart: start.addingTimeInterval(-before), end: end.addingTimeInterval(after))
    }

    /// Orders by start, then end.
    public static func < (lhs: TimeSlot, rhs: TimeSlot) -> Bool {
        (lhs.start, lhs.end) < (rhs.start, rhs.end)
    }
}
