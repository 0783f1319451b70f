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
