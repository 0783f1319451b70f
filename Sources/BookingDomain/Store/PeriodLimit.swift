import Foundation

/// At most ``limit`` bookings (and live holds) of a resource whose slots start inside ``period``: one local
/// day or ISO week of the resource's time zone, resolved to instants by the service.
public struct PeriodLimit: Hashable, Sendable {
    /// Which calendar period a limit counts.
    public enum Kind: String, Hashable, Sendable {
        /// One local day (23 or 25 hours long across a DST change).
        case day
        /// One ISO week, Monday 00:00 to the next Monday 00:00, local time.
        case week
    }

    /// A day or a week.
    public var kind: Kind
    /// The period's instants: its local start (inclusive) to the next period's start (exclusive).
    public var period: TimeSlot
    /// The most bookings and live holds whose slot starts inside ``period``.
    public var limit: Int

    /// Creates a limit.
    public init(kind: Kind, period: TimeSlot, limit: Int) {
        self.kind = kind
        self.period = period
        self.limit = limit
    }
}
