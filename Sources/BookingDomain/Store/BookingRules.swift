import Foundation

/// The rules a store enforces in the transaction that takes a slot (a booking, a move or a hold): seats
/// per slot and bookings per local day or week. The service derives them from the resource's ``Schedule``.
///
/// A store reads, under the lock or transaction that serialises every taker of the slot, the
/// ``SlotOccupant``s whose occupied interval overlaps the new one and the occupants counted by each
/// limit, leaving out the appointment being moved and the hold being used, then asks
/// ``refusal(slot:occupied:occupants:periodCounts:emailTaken:)``. A store may decide in SQL instead, as
/// long as it refuses exactly when that function does.
public struct BookingRules: Hashable, Sendable {
    /// How many booked appointments and live holds may share one slot (its seats); at least 1.
    public var capacity: Int
    /// The day and week limits, in that order; empty for none.
    public var periodLimits: [PeriodLimit]

    /// One seat per slot and no limits: the rules of a schedule without capacity or limits.
    public static let single = BookingRules(capacity: 1)

    /// Creates rules.
    public init(capacity: Int, periodLimits: [PeriodLimit] = []) {
        self.capacity = capacity
        self.periodLimits = periodLimits
    }

    /// What is wrong with the rules themselves (no seat, a limit below 1), or `nil`.
    public var problem: String? {
        if capacity < 1 { return "capacity must be at least 1" }
        if periodLimits.contains(where: { $0.limit < 1 || $0.period.end <= $0.period.start }) {
            return "every limit must be at least 1 over a non-empty period"
        }
        if periodLimits.contains(where: {
            TimeSlot.instantProblem($0.period.start) != nil || TimeSlot.instantProblem($0.period.end) != nil
        }) {
            return "every limit's period must be in the years 0001 to 9999"
        }
        return nil
    }

    /// Why `slot` cannot be taken, or `nil` when it can.
    ///
    /// - Parameters:
    ///   - slot: the slot to take.
    ///   - occupied: `slot` widened by the buffers.
    ///   - occupants: booked appointments and live holds of the resource whose occupied intervals may
    ///     overlap `occupied` (those that do not are ignored).
    ///   - periodCounts: for each of ``periodLimits``, in order, the booked appointments and the expiries of
    ///     the live holds whose slot starts inside its period.
    ///   - emailTaken: whether a booked appointment of this very slot has the customer's email (ignoring case).
    ///
    /// In this order: a booked appointment of a different, overlapping slot, or every seat booked, is
    /// ``BookingError/Code/slotUnavailable`` (so with one seat nothing changes from a plain double booking);
    /// the customer already in a slot with seats left is ``BookingError/Code/alreadyBooked``; a day or week
    /// whose bookings alone reach its limit is ``BookingError/Code/bookingLimitReached``; holds in the way
    /// (in the slot, in an overlapping slot, or filling the day or week) are ``BookingError/Code/slotHeld``,
    /// with the moment enough of them lapse for the slot to be free.
    public func refusal(
        slot: TimeSlot, occupied: TimeSlot, occupants: [SlotOccupant], periodCounts: [PeriodCount], emailTaken: Bool
    ) -> BookingError? {
        var bookedSeats = 0
        var heldSeats: [Date] = []
        var otherHolds: [Date] = []
        for occupant in occupants where occupant.occupied.overlaps(occupied) {
            switch (occupant.slot == slot, occupant.holdExpiresAt) {
            case (true, nil): bookedSeats += 1
            case (true, let expiry?): heldSeats.append(expiry)
            case (false, nil): return .slotUnavailable
            case (false, let expiry?): otherHolds.append(expiry)
            }
        }
        if bookedSeats >= capacity { return .slotUnavailable }
        if emailTaken { return .alreadyBooked }
        var availableAt = otherHolds.max()
        let excess = bookedSeats + heldSeats.count - capacity
        if excess >= 0 {
            // One seat frees when the (excess + 1)-th soonest of the holds in this slot lapses.
            availableAt = Self.later(availableAt, heldSeats.sorted()[excess])
        }
        for (limit, count) in zip(periodLimits, periodCounts) {
            if count.booked >= limit.limit { return .bookingLimitReached(limit.kind.rawValue) }
            let (periodExcess, overflow) = count.total.subtractingReportingOverflow(limit.limit)
            if !overflow, periodExcess >= 0 {
                // Holds fill the period: a place frees when the (excess + 1)-th soonest of them lapses.
                availableAt = Self.later(availableAt, count.holdExpiries.sorted()[periodExcess])
            }
        }
        return availableAt.map { .slotHeld(until: $0) }
    }

    private static func later(_ instant: Date?, _ other: Date) -> Date { max(instant ?? other, other) }

    /// The seats of `slot` still free given `occupants` (booked appointments and live holds overlapping it);
    /// 0 when any occupant of a different, overlapping slot is in the way.
    public func seatsLeft(slot: TimeSlot, occupied: TimeSlot, occupants: some Sequence<SlotOccupant>) -> Int {
        var taken = 0
        for occupant in occupants where occupant.occupied.overlaps(occupied) {
            guard occupant.slot == slot else { return 0 }
            taken += 1
        }
        return capacity > taken ? capacity - taken : 0
    }
}
