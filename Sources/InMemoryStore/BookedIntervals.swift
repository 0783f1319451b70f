import BookingDomain

/// The booked occupied intervals of one resource, sorted by start and pairwise disjoint,
/// so overlap tests and window reads are binary searches.
struct BookedIntervals {
    private var entries: [(interval: TimeSlot, id: Int64)] = []

    /// Whether `interval` overlaps a booked one. O(log n): only the last interval starting
    /// before `interval.end` can overlap, because booked intervals are disjoint.
    func overlaps(_ interval: TimeSlot) -> Bool {
        let index = firstIndex { $0.start >= interval.end }
        return index > 0 && entries[index - 1].interval.end > interval.start
    }

    /// Adds an interval that overlaps none.
    mutating func insert(_ interval: TimeSlot, id: Int64) {
        entries.insert((interval, id), at: firstIndex { $0.start >= interval.start })
    }

    /// Removes the interval of appointment `id`.
    mutating func remove(id: Int64) {
        entries.removeAll { $0.id == id }
    }

    /// Intervals overlapping `window`, sorted by start.
    func intervals(overlapping window: TimeSlot) -> [TimeSlot] {
        // Disjoint and sorted by start means sorted by end too.
        let first = firstIndex { $0.end > window.start }
        return entries[first...].prefix { $0.interval.start < window.end }.map(\.interval)
    }

    private func firstIndex(where predicate: (TimeSlot) -> Bool) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if predicate(entries[middle].interval) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
