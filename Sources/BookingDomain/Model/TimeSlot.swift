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

    /// The instants a slot may start and end at, from 0001-01-01T00:00:00.000Z to 10000-01-01T00:00:00.000Z (the end
    /// of a slot that closes the year 9999): the years ISO 8601 writes with four digits, which every store keeps to
    /// the millisecond.
    public static let supportedInstants =
        Date(timeIntervalSince1970: -62_135_596_800)...Date(timeIntervalSince1970: 253_402_300_800)

    /// Whether `instant` is in ``supportedInstants``: a NaN instant is not (Date's `<=` is `!(>)`, so
    /// `supportedInstants.contains` alone would count it as inside).
    public static func supports(_ instant: Date) -> Bool {
        instant.timeIntervalSince1970.isFinite && supportedInstants.contains(instant)
    }

    /// The instant of ``supportedInstants`` nearest to `instant` (itself when inside); `nil` for a NaN instant.
    static func nearestSupported(_ instant: Date) -> Date? {
        guard !instant.timeIntervalSince1970.isNaN else { return nil }
        return min(max(instant, supportedInstants.lowerBound), supportedInstants.upperBound)
    }

    /// What is wrong with `instant` as a slot's bound, or `nil`: it must be in ``supportedInstants``.
    static func instantProblem(_ instant: Date) -> String? {
        supports(instant) ? nil : "must be in the years 0001 to 9999 (UTC)"
    }

    /// The problems of a store operation's instants at the store's boundary: each of `slot`, `occupied` and `now` in
    /// ``supportedInstants`` (a store rounds them to milliseconds, which an instant far outside would overflow).
    static func boundsProblems(slot: TimeSlot, occupied: TimeSlot, now: Date) -> [String: String] {
        var problems: [String: String] = [:]
        if let problem = instantProblem(slot.start) { problems["slotStart"] = problem }
        if let problem = instantProblem(slot.end) { problems["slotEnd"] = problem }
        if let problem = instantProblem(occupied.start) ?? instantProblem(occupied.end) {
            problems["occupied"] = problem
        }
        if let problem = instantProblem(now) { problems["now"] = problem }
        return problems
    }

    /// Creates `[start, end)`; `end` must be after `start`.
    ///
    /// The service and the stores take a slot only within ``supportedInstants``; this initializer does not ask it, so
    /// a slot read back from a store is never refused for its years.
    public init(start: Date, end: Date) throws(BookingError) {
        guard end > start else { throw .invalidInput(field: "slotEnd", "must be after slotStart") }
        self.start = start
        self.end = end
    }

    /// `[start, end)` when both are in ``supportedInstants`` and `end` is after `start`; otherwise invalid input naming
    /// each bad bound: what the service takes from a caller.
    static func supported(start: Date, end: Date) throws(BookingError) -> TimeSlot {
        var problems: [String: String] = [:]
        if let problem = instantProblem(start) { problems["slotStart"] = problem }
        if let problem = instantProblem(end) { problems["slotEnd"] = problem }
        guard problems.isEmpty else { throw .invalidInput(problems) }
        return try TimeSlot(start: start, end: end)
    }

    /// Decodes `start` and `end` and checks them as ``init(start:end:)`` does: a slot whose end is not after its start
    /// is a `DecodingError.dataCorrupted` naming the problem.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let start = try container.decode(Date.self, forKey: .start)
        let end = try container.decode(Date.self, forKey: .end)
        do {
            try self.init(start: start, end: end)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: container.codingPath,
                    debugDescription: error.fieldErrors.map { "\($0.key) \($0.value)" }.sorted().joined(
                        separator: "; "),
                    underlyingError: error))
        }
    }

    private enum CodingKeys: String, CodingKey {
        case start, end
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
