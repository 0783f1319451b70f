/// A store broke an invariant: names the check and says what was expected and seen.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// The check that failed.
    public let check: ConformanceCheck
    /// What went wrong.
    public let message: String

    /// Creates a failure.
    public init(check: ConformanceCheck, message: String) {
        self.check = check
        self.message = message
    }

    /// `conformance check '<name>' failed: <message>`.
    public var description: String { "conformance check '\(check.name)' failed: \(message)" }
}
