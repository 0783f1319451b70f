/// A whole-number setting: the range it accepts and its default.
struct NumberSetting: Sendable {
    let range: ClosedRange<Int>
    let fallback: Int

    /// What a bad value is told: `must be a whole number from 5 to 1440`.
    var accepted: String { "must be a whole number from \(range.lowerBound) to \(range.upperBound)" }
}
