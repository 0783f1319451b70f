import BookingDomain
import Foundation

/// The booked appointments of one resource, sorted by occupied start, so overlap reads are binary searches.
///
/// Seats of one slot share an interval; appointments of different slots never overlap. Every read
/// starts its search at `window.start - longest`, the longest occupied interval ever added, so an
/// interval that starts earlier but reaches into the window is found without scanning from the start.
struct BookedSlots {
    private var entries: [(slot: TimeSlot, occupied: TimeSlot, id: Int64)] = []
    private var longest: Double = 0

    /// Adds an appointment's slot and occupied interval.
    mutating func insert(slot: TimeSlot, occupied: TimeSlot, id: Int64) {
        longest = max(longest, occupied.duration)
        entries.insert((slot, occupied, id), at: firstIndex { $0.start >= occupied.start })
    }

    /// Removes the appointment `id`.
    mutating func remove(id: Int64) {
        entries.removeAll { $0.id == id }
    }

    /// The appointments whose occupied intervals overlap `window`, sorted by occupied start.
    func overlapping(_ window: TimeSlot) -> [(slot: TimeSlot, occupied: TimeSlot, id: Int64)] {
        let first = firstIndex { $0.start >= window.start.addingTimeInterval(-longest) }
        return entries[first...].prefix { $0.occupied.start < window.end }.filter { $0.occupied.overlaps(window) }
    }

    private func firstIndex(where predicate: (TimeSlot) -> Bool) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if predicate(entries[middle].occupied) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
