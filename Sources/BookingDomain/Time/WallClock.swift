public import Foundation

/// Where booking operations read "now" from; inject `ManualWallClock` (from the BookingTesting library) in tests to move time.
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Date
}

/// The system's wall clock.
public struct SystemWallClock: WallClock {
    /// Creates the clock.
    public init() {}

    /// `Date()`.
    public func now() -> Date { Date() }
}

extension WallClock {
    /// `now()`, or invalid input naming `now` when the clock reads outside ``TimeSlot/supportedInstants`` (NaN
    /// included): no store keeps such an instant, and its milliseconds would overflow.
    func checkedNow() throws(BookingError) -> Date {
        let now = now()
        if let problem = TimeSlot.instantProblem(now) {
            throw .invalidInput(field: "now", "\(problem); the clock read \(now.timeIntervalSince1970) s after 1970")
        }
        return now
    }

    /// `now()` moved into ``TimeSlot/supportedInstants`` (NaN reads as its start): for readings after a
    /// ``checkedNow()`` in the same operation, where a clock that jumped far off can no longer be reported as an
    /// error, yet must not overflow.
    func boundedNow() -> Date {
        let now = now()
        let range = TimeSlot.supportedInstants
        guard !now.timeIntervalSince1970.isNaN else { return range.lowerBound }
        return min(max(now, range.lowerBound), range.upperBound)
    }
}
