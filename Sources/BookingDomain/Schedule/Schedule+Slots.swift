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

    /// The slots free to book in `window`, as of `now`, given the occupied intervals of booked appointments.
    ///
    /// A slot is free when it starts at or after `now + minimumNotice`, ends at or before
    /// `now + horizon`, lies inside `window`, and its occupied interval (widened by the buffers)
    /// overlaps no booked interval. Costs O((slots + booked) log booked).
    public func availableSlots(in window: TimeSlot, now: Date, booked: [TimeSlot]) -> [TimeSlot] {
        guard let bounds = bookableWindow(within: window, now: now) else { return [] }
        let taken = booked.sorted()
        var next = 0
        return slots(from: bounds.start, to: bounds.end).filter { slot in
            let occupied = occupiedInterval(of: slot)
            // Booked intervals are sorted and disjoint, so their ends are sorted too.
            while next < taken.count && taken[next].end <= occupied.start { next += 1 }
            var probe = next
            while probe < taken.count && taken[probe].start < occupied.end {
                if taken[probe].overlaps(occupied) { return false }
                probe += 1
            }
            return true
        }
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
