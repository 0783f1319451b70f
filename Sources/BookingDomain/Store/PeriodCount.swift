public import Foundation

/// What a store counts for one ``PeriodLimit``: the booked appointments whose slot starts in its period, and
/// the expiries of the live holds whose slot does.
public struct PeriodCount: Hashable, Sendable {
    /// Booked appointments starting in the period.
    public var booked: Int
    /// When each live hold starting in the period lapses, in any order.
    public var holdExpiries: [Date]

    /// Creates a count.
    public init(booked: Int, holdExpiries: [Date] = []) {
        self.booked = booked
        self.holdExpiries = holdExpiries
    }

    /// Bookings and live holds together: what a limit is compared with (at most `Int.max`).
    public var total: Int {
        let (total, overflow) = booked.addingReportingOverflow(holdExpiries.count)
        return overflow ? .max : total
    }
}
