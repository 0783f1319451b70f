public import Foundation

/// What ``BookingService`` asks a store to hold: one seat of a slot until ``expiresAt``.
public struct NewHold: Hashable, Sendable {
    /// The resource.
    public var resource: ResourceID
    /// The slot.
    public var slot: TimeSlot
    /// The slot widened by the buffers; must contain `slot`.
    public var occupied: TimeSlot
    /// Hex SHA-256 of the hold token (64 lowercase hex digits), unique among holds.
    public var tokenHash: String
    /// When the hold lapses; after ``now``.
    public var expiresAt: Date
    /// The service's time: holds that lapsed by then take nothing.
    public var now: Date
    /// The seats and limits to respect, as for a booking of the slot.
    public var rules: BookingRules

    /// Creates the hold request.
    public init(
        resource: ResourceID, slot: TimeSlot, occupied: TimeSlot, tokenHash: String, expiresAt: Date, now: Date,
        rules: BookingRules
    ) {
        self.resource = resource
        self.slot = slot
        self.occupied = occupied
        self.tokenHash = tokenHash
        self.expiresAt = expiresAt
        self.now = now
        self.rules = rules
    }

    /// The longest occupied interval a hold may take: 72 hours, a slot of at most 24 hours with buffers of
    /// at most 24 hours on each side (the most a ``Schedule`` allows). Stores may look back this far for holds
    /// reaching into a window.
    public static let longestOccupiedInterval: Duration = .seconds(72 * 3600)

    /// Checks what every store must refuse before writing: an empty or inverted interval, an occupied
    /// interval that does not contain the slot or is longer than ``longestOccupiedInterval``, a malformed
    /// token hash, an expiry not after `now`, or rules without a seat.
    public func validate() throws(BookingError) {
        var problems = TimeSlot.boundsProblems(slot: slot, occupied: occupied, now: now)
        if let problem = TimeSlot.instantProblem(expiresAt) { problems["expiresAt"] = problem }
        if slot.end <= slot.start { problems["slotEnd"] = problems["slotEnd"] ?? "must be after slotStart" }
        if !occupied.contains(slot) { problems["occupied"] = problems["occupied"] ?? "must contain the slot" }
        if occupied.duration > Self.longestOccupiedInterval.timeInterval {
            problems["occupied"] = "must not be longer than 72 hours"
        }
        if tokenHash.utf8.count != 64 { problems["tokenHash"] = "must be 64 hex digits" }
        if expiresAt <= now { problems["expiresAt"] = "must be after now" }
        if let problem = rules.problem { problems["rules"] = problem }
        if !problems.isEmpty { throw .invalidInput(problems) }
    }
}
