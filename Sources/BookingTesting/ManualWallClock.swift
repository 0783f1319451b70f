public import BookingDomain
public import Foundation
import Synchronization

/// A wall clock that only moves when told: for tests of notice, horizon, leases and backoff.
///
/// ```swift
/// let clock = ManualWallClock(now: try Date("2027-03-01T08:00:00Z", strategy: .iso8601))
/// clock.advance(by: .minutes(30))
/// ```
public final class ManualWallClock: WallClock {
    private let current: Mutex<Date>

    /// Creates a clock that reads `now` until moved.
    public init(now: Date) { current = Mutex(now) }

    /// The instant the clock was last set to.
    public func now() -> Date { current.withLock { $0 } }

    /// Sets the clock to `instant`.
    public func set(to instant: Date) { current.withLock { $0 = instant } }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Duration) {
        // `components` traps past what `Int64` counts in seconds: such a duration is as good as that.
        let (seconds, attoseconds) = min(max(duration, .seconds(Int64.min)), .seconds(Int64.max)).components
        current.withLock { $0 = $0.addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18) }
    }
}
