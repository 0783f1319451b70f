/// Capped exponential backoff with equal jitter.
///
/// After failed attempt `n` (from 1) the next attempt waits
/// `d/2 + random(0...d/2)` where `d = min(cap, base * 2^(n-1))`: with the defaults
/// (base 2 s, cap 1 h) about 1-2 s, 2-4 s, 4-8 s, ... up to 30-60 min. A `base` or `cap` below zero counts as
/// zero, and one above ``longestDelay`` as ``longestDelay``.
public struct Backoff: Hashable, Sendable {
    /// The longest delay any backoff gives: 30 days. A next attempt further off than that would outlive most
    /// deployments' memory of why it was due.
    public static let longestDelay: Duration = .seconds(30 * 86_400)

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
        let exponent = attempt > 1 ? min(attempt - 1, 40) : 0
        let grown = Self.bounded(base).timeInterval * Double(UInt64(1) << UInt64(exponent))
        return .milliseconds(Int64(min(grown, Self.bounded(cap).timeInterval) * 1000))
    }

    /// The jittered delay after failed attempt `attempt`; `unit` is a random number in `0...1` (one outside counts as
    /// the nearest end, NaN as 0).
    public func delay(afterAttempt attempt: Int, unit: Double) -> Duration {
        let ceiling = ceiling(afterAttempt: attempt).timeInterval
        let fraction = unit.isNaN ? 0 : min(max(unit, 0), 1)
        return .milliseconds(Int64((ceiling / 2 + ceiling / 2 * fraction) * 1000))
    }

    /// `delay` within `0...longestDelay`.
    private static func bounded(_ delay: Duration) -> Duration { min(max(delay, .zero), longestDelay) }
}
