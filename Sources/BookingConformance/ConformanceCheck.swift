/// One invariant of `BookingStore` that ``BookingConformance`` checks.
///
/// A check is declared once, next to its body, in the list of its family (``all`` joins them):
///
/// ```swift
/// ConformanceCheck(
///     "cancelOfUnknownAppointment",
///     "Cancelling an unknown id returns nil and writes nothing."
/// ) { context in
///     try context.expectEqual(try await context.store.cancel(id: 424_242, now: context.now), nil, "cancel")
/// },
/// ```
public struct ConformanceCheck: Sendable, Hashable, CustomStringConvertible {
    /// The check's name, e.g. `concurrentBookingsOfOneSlot`.
    public let name: String
    /// What the check proves, in one sentence.
    public let summary: String
    /// The capabilities a store must claim for this check to run.
    public let requirements: BookingConformance.Capabilities
    let body: @Sendable (CheckContext) async throws -> Void

    init(
        _ name: String, _ summary: String, requires requirements: BookingConformance.Capabilities = [],
        body: @escaping @Sendable (CheckContext) async throws -> Void
    ) {
        self.name = name
        self.summary = summary
        self.requirements = requirements
        self.body = body
    }

    /// Every check of the suite, in a stable order.
    public static let all: [ConformanceCheck] =
        bookingChecks + rescheduleChecks + capacityChecks + holdChecks + outboxChecks + dispatcherChecks
        + reminderChecks + durabilityChecks

    /// The check called `name`, if there is one.
    public static func named(_ name: String) -> ConformanceCheck? { all.first { $0.name == name } }

    /// The check's name.
    public var description: String { name }

    /// Whether a store with `capabilities` can run this check.
    func isApplicable(to capabilities: BookingConformance.Capabilities) -> Bool {
        capabilities.isSuperset(of: requirements)
    }

    /// Checks are equal when their names are.
    public static func == (lhs: ConformanceCheck, rhs: ConformanceCheck) -> Bool { lhs.name == rhs.name }

    /// Hashes the name.
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}
