import Foundation

extension Duration {
    /// A duration of whole minutes; a count beyond what `Duration` holds in whole seconds is its nearest (so
    /// `.minutes(.max)` reads as forever rather than trapping).
    public static func minutes(_ count: Int) -> Duration {
        let (seconds, overflow) = count.multipliedReportingOverflow(by: 60)
        return .seconds(overflow ? (count < 0 ? Int.min : Int.max) : seconds)
    }

    /// `components`, except that a duration beyond what `Int64` counts in seconds reads as its nearest end:
    /// `components` itself traps there (`.seconds(1e19)` is a valid `Duration`).
    var saturatingComponents: (seconds: Int64, attoseconds: Int64) {
        if self >= .seconds(Int64.max) { return (.max, 0) }
        if self <= .seconds(Int64.min) { return (.min, 0) }
        return components
    }

    /// The duration in seconds, as Foundation counts time.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = saturatingComponents
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in whole milliseconds, rounded down; beyond `Int64`, its nearest end.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = saturatingComponents
        let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (total, carry) = milliseconds.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return carry ? (milliseconds < 0 ? .min : .max) : total
    }
}
