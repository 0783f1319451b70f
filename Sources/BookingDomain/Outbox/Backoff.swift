/// Capped exponential backoff with equal jitter.
///
/// After failed attempt `n` (from 1) the next attempt waits
/// `d/2 + random(0...d/2)` where `d = min(cap, base * 2^(n-1))`: with the defaults
/// (base 2 s, cap 1 h) about 1-2 s, 2-4 s, 4-8 s, ... up to 30-60 min.
public struct Backoff: Hashable, Sendable {
    /// The delay before the second attempt, before jitter.
    public var base: Duration
    /// The longest delay, before jitter.
    public var cap: Duration

    /// Creates a backoff policy.
    public init(base: Duration = .seconds(2), cap: Duration = .seconds(3600)) {
        self.base = base
        self.cap = cap
    }

    /// The un-jittered delay after failed attempt `attempt`.
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let grown = base.timeInterval * Double(UInt64(1) << UInt64(exponent))
        return .milliseconds(Int64(min(grown, cap.timeInterval) * 1000))
    }

    /// The jittered delay after failed attempt `attempt`; `unit` is a random number in `0...1`.
    public func delay(afterAttempt attempt: Int, unit: Double) -> Duration {
        let ceiling = ceiling(afterAttempt: attempt).timeInterval
        return .milliseconds(Int64((ceiling / 2 + ceiling / 2 * min(max(unit, 0), 1)) * 1000))
    }
}
