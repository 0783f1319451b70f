public import Foundation

extension Schedule {
    /// The opening intervals of a local date: its override if any, else its weekday's hours.
    public func openingIntervals(on date: LocalDate) -> [OpeningInterval] {
        overrides[date] ?? weeklyHours[date.weekday] ?? []
    }

    /// Every slot of the grid that starts at or after `from` and ends at or before `to`, sorted.
    ///
    /// Ignores bookings, notice and horizon. Each local working interval is resolved to instants
    /// in ``timeZone`` (a local time in a spring-forward gap moves forward by the gap; a time that
    /// occurs twice takes the earlier occurrence), then cut into consecutive slots of
    /// ``slotLength`` in real elapsed time; a slot that would end after the close is dropped.
    public func slots(from: Date, to: Date) -> [TimeSlot] {
        guard from < to else { return [] }
        let length = slotLength.timeInterval
        var result: [TimeSlot] = []
        var date = localDate(of: from).adding(days: -1)
        let lastDate = localDate(of: to).adding(days: 1)
        while date <= lastDate {
            for interval in openingIntervals(on: date) {
                let close = instant(on: date, at: interval.close)
                var start = instant(on: date, at: interval.open)
                while start.addingTimeInterval(length) <= close {
                    let end = start.addingTimeInterval(length)
                    if start >= from && end <= to {
                        result.append(TimeSlot(uncheckedStart: start, end: end))
                    }
                    start = end
                }
            }
            date = date.adding(days: 1)
        }
        result.sort()
        // Instants of intervals of adjacent dates can collide around DST changes: keep slots disjoint.
        var disjoint: [TimeSlot] = []
        disjoint.reserveCapacity(result.count)
        for slot in result where disjoint.last.map({ $0.end <= slot.start }) ?? true {
            disjoint.append(slot)
        }
        return disjoint
    }

    /// The slots free to book in `window`, as of `now`, given the booked appointments and live holds
    /// that occupy the resource (see ``BookingStore/occupants(resource:overlapping:now:)``).
    ///
    /// A slot is free when it starts at or after `now + minimumNotice`, ends at or before
    /// `now + horizon`, lies inside `window`, its occupied interval (widened by the buffers) overlaps no
    /// occupant of another slot, a seat of its ``capacity`` is left, and its local day and ISO week are
    /// under the ``dailyLimit`` and ``weeklyLimit`` (counted over `occupants`, so they must cover the
    /// whole days and weeks: ``BookingService`` reads them so). Costs O((slots + occupants) log occupants).
    public func availableSlots(in window: TimeSlot, now: Date, occupants: [SlotOccupant]) -> [AvailableSlot] {
        guard let bounds = bookableWindow(within: window, now: now) else { return [] }
        let byOccupiedStart = occupants.sorted { $0.occupied.start < $1.occupied.start }
        let starts = occupants.map(\.slot.start).sorted()
        var rules = BookingRules(capacity: capacity)
        // Without limits there is no period to count; with them the first slot resolves its day and week.
        var periodsEnd = dailyLimit == nil && weeklyLimit == nil ? Date.distantFuture : .distantPast
        var periodsFull = false
        var next = 0
        var overlapping: [SlotOccupant] = []
        var result: [AvailableSlot] = []
        // The buffers as seconds once: a `Duration`'s components cost more than the rest of a slot's work.
        let (before, after) = (bufferBefore.timeInterval, bufferAfter.timeInterval)
        for slot in slots(from: bounds.start, to: bounds.end) {
            if slot.start >= periodsEnd {
                // One calendar lookup per day, not per slot.
                rules = self.rules(for: slot)
                periodsEnd = rules.periodLimits.map(\.period.end).min() ?? .distantFuture
                periodsFull = rules.periodLimits.contains { limit in
                    Self.count(of: starts, in: limit.period) >= limit.limit
                }
            }
            if periodsFull { continue }
            let occupied = slot.widened(before: before, after: after)
            // Occupied intervals of slots only move forward, so an occupant ended before one ends before all later ones.
            if !overlapping.isEmpty { overlapping.removeAll { $0.occupied.end <= occupied.start } }
            while next < byOccupiedStart.count && byOccupiedStart[next].occupied.start < occupied.end {
                overlapping.append(byOccupiedStart[next])
                next += 1
            }
            let seats = rules.seatsLeft(slot: slot, occupied: occupied, occupants: overlapping)
            if seats > 0 { result.append(AvailableSlot(slot: slot, seatsLeft: seats)) }
        }
        return result
    }

    /// How many of the sorted `instants` lie in `period`, by binary search.
    private static func count(of instants: [Date], in period: TimeSlot) -> Int {
        func firstIndex(notBefore instant: Date) -> Int {
            var low = 0
            var high = instants.count
            while low < high {
                let middle = (low + high) / 2
                if instants[middle] < instant { low = middle + 1 } else { high = middle }
            }
            return low
        }
        return firstIndex(notBefore: period.end) - firstIndex(notBefore: period.start)
    }

    /// `window` clamped to `[now + minimumNotice, now + horizon]`, or `nil` when nothing is left.
    public func bookableWindow(within window: TimeSlot, now: Date) -> TimeSlot? {
        let earliest = max(window.start, now.addingTimeInterval(minimumNotice.timeInterval))
        let latest = min(window.end, now.addingTimeInterval(horizon.timeInterval))
        return earliest < latest ? TimeSlot(uncheckedStart: earliest, end: latest) : nil
    }

    /// The interval an appointment in `slot` keeps busy: the slot widened by the buffers.
    public func occupiedInterval(of slot: TimeSlot) -> TimeSlot {
        slot.widened(before: bufferBefore.timeInterval, after: bufferAfter.timeInterval)
    }

    /// Throws ``BookingError/Code/slotNotOffered`` unless `slot` is exactly a slot this schedule offers at `now`.
    public func checkOffered(_ slot: TimeSlot, now: Date) throws(BookingError) {
        if slot.start < now { throw .slotNotOffered("it is in the past") }
        if slot.start < now.addingTimeInterval(minimumNotice.timeInterval) {
            throw .slotNotOffered("it starts sooner than the minimum notice")
        }
        if slot.end > now.addingTimeInterval(horizon.timeInterval) {
            throw .slotNotOffered("it is beyond the booking horizon")
        }
        guard slots(from: slot.start, to: slot.end) == [slot] else {
            throw .slotNotOffered("it is not a slot of the schedule (outside hours or off the grid)")
        }
    }

    /// The local date, in ``timeZone``, of an instant.
    public func localDate(of instant: Date) -> LocalDate {
        let wall = instant.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: instant))
        return LocalDate(daysSinceEpoch: Int((wall / 86_400).rounded(.down)))
    }

    /// The instant of a local date and time in ``timeZone``, with the DST rules of ``slots(from:to:)``.
    public func instant(on date: LocalDate, at time: LocalTime) -> Date {
        let wall = Double(date.daysSinceEpoch) * 86_400 + Double(time.minutes) * 60
        let offsetBefore = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: wall - 129_600))
        let offsetAfter = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: wall + 129_600))
        let valid = [offsetBefore, offsetAfter].compactMap { offset -> Date? in
            let candidate = Date(timeIntervalSince1970: wall - Double(offset))
            return timeZone.secondsFromGMT(for: candidate) == offset ? candidate : nil
        }
        // Twice-occurring time: the earlier one. Skipped time: read with the offset before the gap,
        // which lands as far past the gap as the time was into it.
        return valid.min() ?? Date(timeIntervalSince1970: wall - Double(offsetBefore))
    }
}
