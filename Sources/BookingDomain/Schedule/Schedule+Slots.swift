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
    /// ``slotLength`` in real elapsed time; a slot that would end after the close is dropped. Where resolved
    /// intervals overlap (a close moved forward past the next open, around a DST change), the slots of the dates
    /// around the window are sorted and a slot overlapping an earlier one is dropped, so a slot is offered or not
    /// whatever window asks for it (`checkOffered(_:now:)` asks for the slot alone).
    ///
    /// The bounds count as the nearest instants of ``TimeSlot/supportedInstants`` (a NaN bound gives no slots); the
    /// answer costs time and memory in proportion to the window's days and slots, so a caller bounds the window.
    public func slots(from: Date, to: Date) -> [TimeSlot] {
        guard let from = TimeSlot.nearestSupported(from), let to = TimeSlot.nearestSupported(to), from < to else {
            return []
        }
        var offsets = ZoneOffsets(timeZone: timeZone)
        var intervals: [(open: Date, close: Date)] = []
        var date = localDate(of: from).adding(days: -1)
        let lastDate = localDate(of: to).adding(days: 1)
        while date <= lastDate {
            for interval in openingIntervals(on: date) {
                intervals.append(
                    (
                        Self.instant(on: date, at: interval.open) { offsets.secondsFromGMT(at: $0) },
                        Self.instant(on: date, at: interval.close) { offsets.secondsFromGMT(at: $0) }
                    ))
            }
            date = date.adding(days: 1)
        }
        // Made in order of dates and times, which is the order of instants but around a DST change.
        if !Self.isSorted(intervals, by: \.open) { intervals.sort { $0.open < $1.open } }
        let disjoint = intervals.indices.dropFirst().allSatisfy { intervals[$0 - 1].close <= intervals[$0].open }
        guard disjoint else {
            return Self.slotsOfOverlappingIntervals(intervals, length: slotLength, from: from, to: to)
        }
        let length = slotLength.timeInterval
        var result: [TimeSlot] = []
        for (open, close) in intervals {
            var start = open
            // The slots ending before `from` in one step, stopping a slot short: the division's rounding never
            // skips one that counts (instants and lengths are whole seconds, so the sums are exact).
            let before = (from.timeIntervalSince(start) / length).rounded(.down) - 1
            if before > 0 { start = start.addingTimeInterval(before * length) }
            while start.addingTimeInterval(length) <= close {
                let end = start.addingTimeInterval(length)
                if end > to { return result }
                if start >= from { result.append(TimeSlot(uncheckedStart: start, end: end)) }
                start = end
            }
        }
        return result
    }

    /// The slots of `intervals` (sorted by open, some overlapping) within `from`...`to`: every slot of every
    /// interval, sorted, each that overlaps a slot kept before it dropped, then those of the window.
    private static func slotsOfOverlappingIntervals(
        _ intervals: [(open: Date, close: Date)], length: Duration, from: Date, to: Date
    ) -> [TimeSlot] {
        let length = length.timeInterval
        var all: [TimeSlot] = []
        for (open, close) in intervals {
            var start = open
            while start.addingTimeInterval(length) <= close {
                all.append(TimeSlot(uncheckedStart: start, end: start.addingTimeInterval(length)))
                start = start.addingTimeInterval(length)
            }
        }
        all.sort()
        var kept: [TimeSlot] = []
        for slot in all where kept.last.map({ $0.end <= slot.start }) ?? true { kept.append(slot) }
        return kept.filter { $0.start >= from && $0.end <= to }
    }

    /// Whether `elements` are in ascending order of `key` (equal keys allowed).
    private static func isSorted<Element>(_ elements: [Element], by key: (Element) -> Date) -> Bool {
        elements.indices.dropFirst().allSatisfy { key(elements[$0 - 1]) <= key(elements[$0]) }
    }

    /// The slots free to book in `window`, as of `now`, given the booked appointments and live holds
    /// that occupy the resource (see ``BookingStore/occupants(resource:overlapping:now:)``).
    ///
    /// A slot is free when it starts at or after `now + minimumNotice`, ends at or before
    /// `now + horizon`, lies inside `window`, its occupied interval (widened by the buffers) overlaps no
    /// occupant of another slot, a seat of its ``capacity`` is left, and its local day and ISO week are
    /// under the ``dailyLimit`` and ``weeklyLimit`` (counted over `occupants`, so they must cover the
    /// whole days and weeks: ``BookingService`` reads them so). About one pass over the slots and `occupants`
    /// (sorted first unless they come sorted by occupied start, as stores answer them; with limits, their starts
    /// are sorted too).
    public func availableSlots(in window: TimeSlot, now: Date, occupants: [SlotOccupant]) -> [AvailableSlot] {
        guard let bounds = bookableWindow(within: window, now: now) else { return [] }
        // Stores answer them sorted: then they are read as they are, not copied.
        let byOccupiedStart =
            Self.isSorted(occupants, by: \.occupied.start)
            ? occupants : occupants.sorted { $0.occupied.start < $1.occupied.start }
        var rules = BookingRules(capacity: capacity)
        // Without limits there is no period to count; with them the first slot resolves its day and week.
        let limited = dailyLimit != nil || weeklyLimit != nil
        var periodsEnd = limited ? Date.distantPast : .distantFuture
        let starts = limited ? occupants.map(\.slot.start).sorted() : []
        var periodsFull = false
        let candidates = slots(from: bounds.start, to: bounds.end)
        var result: [AvailableSlot] = []
        result.reserveCapacity(candidates.count)
        // The buffers as seconds once: a `Duration`'s components cost more than the rest of a slot's work.
        let (before, after) = (bufferBefore.timeInterval, bufferAfter.timeInterval)
        // Read through their memory: a slice of the array per slot would retain and release it.
        byOccupiedStart.withUnsafeBufferPointer { byOccupiedStart in
            // The occupants that may overlap the slot at hand: `byOccupiedStart[first..<next]` and `outlasting`.
            // Before `first` each ended before it or is in `outlasting`; from `next` on each starts after it. An
            // occupant at the front of the range that outlasts the one after it (a longer interval, as booked before
            // the buffers changed) is set aside in `outlasting`, so the front moves past the ones that end before
            // it.
            var first = 0
            var next = 0
            var outlasting: [SlotOccupant] = []
            for slot in candidates {
                if slot.start >= periodsEnd {
                    // One calendar lookup per day, not per slot.
                    rules = self.rules(for: slot)
                    periodsEnd = rules.periodLimits.map(\.period.end).min() ?? .distantFuture
                    periodsFull = rules.periodLimits.contains { limit in
                        Self.count(of: starts, in: limit.period) >= limit.limit
                    }
                }
                if periodsFull { continue }
                // Occupied intervals of slots only move forward: an occupant that ended before one ended before all
                // later ones.
                let occupied = slot.widened(before: before, after: after)
                while next < byOccupiedStart.count && byOccupiedStart[next].occupied.start < occupied.end { next += 1 }
                while first < next {
                    let front = byOccupiedStart[first]
                    if front.occupied.end > occupied.start {
                        guard first + 1 < next, byOccupiedStart[first + 1].occupied.end < front.occupied.end
                        else { break }
                        outlasting.append(front)
                    }
                    first += 1
                }
                let range = UnsafeBufferPointer(rebasing: byOccupiedStart[first..<next])
                let seats: Int
                if outlasting.isEmpty {
                    seats = rules.seatsLeft(slot: slot, occupied: occupied, occupants: range)
                } else {
                    outlasting.removeAll { $0.occupied.end <= occupied.start }
                    // Both in turn, without copying the range.
                    let both = sequence(state: (outlasting.makeIterator(), range.makeIterator())) { iterators in
                        iterators.0.next() ?? iterators.1.next()
                    }
                    seats = rules.seatsLeft(slot: slot, occupied: occupied, occupants: both)
                }
                if seats > 0 { result.append(AvailableSlot(slot: slot, seatsLeft: seats)) }
            }
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

    /// `window` clamped to `[now + minimumNotice, now + horizon]`, or `nil` when nothing is left or `now` is not in
    /// ``TimeSlot/supportedInstants``.
    public func bookableWindow(within window: TimeSlot, now: Date) -> TimeSlot? {
        guard TimeSlot.supports(now) else { return nil }
        let earliest = max(window.start, now.addingTimeInterval(minimumNotice.timeInterval))
        let latest = min(window.end, now.addingTimeInterval(horizon.timeInterval))
        return earliest < latest ? TimeSlot(uncheckedStart: earliest, end: latest) : nil
    }

    /// The interval an appointment in `slot` keeps busy: the slot widened by the buffers.
    public func occupiedInterval(of slot: TimeSlot) -> TimeSlot {
        slot.widened(before: bufferBefore.timeInterval, after: bufferAfter.timeInterval)
    }

    /// Throws ``BookingError/Code/slotNotOffered`` unless `slot` is exactly a slot this schedule offers at `now`, and
    /// ``BookingError/Code/invalidInput`` when `now` is not in ``TimeSlot/supportedInstants``.
    public func checkOffered(_ slot: TimeSlot, now: Date) throws(BookingError) {
        if let problem = TimeSlot.instantProblem(now) { throw .invalidInput(field: "now", problem) }
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

    /// The local date, in ``timeZone``, of an instant; an instant outside ``TimeSlot/supportedInstants`` counts as the
    /// nearest one inside (a NaN instant as the first).
    public func localDate(of instant: Date) -> LocalDate {
        let instant = TimeSlot.nearestSupported(instant) ?? TimeSlot.supportedInstants.lowerBound
        let wall = instant.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: instant))
        return LocalDate(daysSinceEpoch: Int((wall / 86_400).rounded(.down)))
    }

    /// The instant of a local date and time in ``timeZone``, with the DST rules of ``slots(from:to:)``.
    public func instant(on date: LocalDate, at time: LocalTime) -> Date {
        Self.instant(on: date, at: time) { timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: $0)) }
    }

    /// ``instant(on:at:)`` with the zone's offset at an instant (seconds since 1970) read through `offset`: a
    /// window's slots read it through ``ZoneOffsets``, since a day's times read the offsets 36 hours before and
    /// after, which are those of the same times three days earlier and later.
    private static func instant(on date: LocalDate, at time: LocalTime, offsetAt offset: (Double) -> Int) -> Date {
        let wall = Double(date.daysSinceEpoch) * 86_400 + Double(time.minutes) * 60
        let offsetBefore = offset(wall - 129_600)
        let offsetAfter = offset(wall + 129_600)
        // One offset on both sides: its reading, valid or (a change and back within the three days) the fallback
        // below, which is the same instant.
        guard offsetBefore != offsetAfter else { return Date(timeIntervalSince1970: wall - Double(offsetBefore)) }
        let valid = [offsetBefore, offsetAfter].compactMap { candidateOffset -> Date? in
            let candidate = wall - Double(candidateOffset)
            return offset(candidate) == candidateOffset ? Date(timeIntervalSince1970: candidate) : nil
        }
        // Twice-occurring time: the earlier one. Skipped time: read with the offset before the gap,
        // which lands as far past the gap as the time was into it.
        return valid.min() ?? Date(timeIntervalSince1970: wall - Double(offsetBefore))
    }
}

/// A time zone's offsets from GMT at instants, each read from the zone once: a day's slots read the same instants
/// as the days around it (see `Schedule.instant(on:at:offsetAt:)`).
private struct ZoneOffsets {
    let timeZone: TimeZone
    private var known: [Double: Int] = [:]

    init(timeZone: TimeZone) {
        self.timeZone = timeZone
    }

    /// The zone's offset at `instant`, in seconds since 1970.
    mutating func secondsFromGMT(at instant: Double) -> Int {
        if let offset = known[instant] { return offset }
        let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: instant))
        known[instant] = offset
        return offset
    }
}
