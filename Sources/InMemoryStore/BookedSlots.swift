import BookingDomain
import Foundation

/// The booked appointments of one resource, sorted by occupied start, so overlap reads are binary searches.
///
/// Kept in chunks of at most ``maximumChunk`` entries, each sorted, the chunks in order: an insert or a
/// removal moves at most one chunk's entries instead of the whole array, so its cost stays flat as a
/// resource grows to hundreds of thousands of appointments.
///
/// Seats of one slot share an interval; appointments of different slots never overlap. Every read
/// starts its search at `window.start - longest`, the longest occupied interval ever added, so an
/// interval that starts earlier but reaches into the window is found without scanning from the start.
struct BookedSlots {
    /// One booked appointment: its slot, its occupied interval and its id.
    typealias Entry = (slot: TimeSlot, occupied: TimeSlot, id: Int64)

    private static let maximumChunk = 512
    private var chunks: [[Entry]] = []
    private var longest: Double = 0

    /// Adds an appointment's slot and occupied interval.
    mutating func insert(slot: TimeSlot, occupied: TimeSlot, id: Int64) {
        longest = max(longest, occupied.duration)
        let entry = (slot, occupied, id)
        guard !chunks.isEmpty else {
            chunks = [[entry]]
            return
        }
        let chunk = lastChunk(startingAtOrBefore: occupied.start) ?? 0
        let position = Self.firstIndex(in: chunks[chunk]) { $0.occupied.start > occupied.start }
        chunks[chunk].insert(entry, at: position)
        if chunks[chunk].count > Self.maximumChunk {
            let half = chunks[chunk].count / 2
            chunks.insert(Array(chunks[chunk][half...]), at: chunk + 1)
            chunks[chunk].removeSubrange(half...)
        }
    }

    /// Removes the appointment `id`, whose occupied interval starts at `start`.
    mutating func remove(id: Int64, occupiedStart start: Date) {
        var chunk = lastChunk(startingBefore: start) ?? 0
        while chunk < chunks.count, let first = chunks[chunk].first, first.occupied.start <= start {
            var index = Self.firstIndex(in: chunks[chunk]) { $0.occupied.start >= start }
            while index < chunks[chunk].count && chunks[chunk][index].occupied.start == start {
                if chunks[chunk][index].id == id {
                    chunks[chunk].remove(at: index)
                    if chunks[chunk].isEmpty { chunks.remove(at: chunk) }
                    return
                }
                index += 1
            }
            chunk += 1
        }
    }

    /// The appointments whose occupied intervals overlap `window`, sorted by occupied start.
    func overlapping(_ window: TimeSlot) -> [Entry] {
        overlapping(window) { $0 }
    }

    /// What `transform` makes of each appointment whose occupied interval overlaps `window`, sorted by occupied
    /// start (one array, where a map of ``overlapping(_:)`` would make two).
    func overlapping<Element>(_ window: TimeSlot, _ transform: (Entry) -> Element) -> [Element] {
        let from = window.start.addingTimeInterval(-longest)
        var result: [Element] = []
        var chunk = lastChunk(startingBefore: from) ?? 0
        while chunk < chunks.count, let first = chunks[chunk].first, first.occupied.start < window.end {
            let entries = chunks[chunk]
            var index = Self.firstIndex(in: entries) { $0.occupied.start >= from }
            while index < entries.count && entries[index].occupied.start < window.end {
                if entries[index].occupied.overlaps(window) { result.append(transform(entries[index])) }
                index += 1
            }
            chunk += 1
        }
        return result
    }

    /// The last chunk whose first entry starts at or before `start`.
    private func lastChunk(startingAtOrBefore start: Date) -> Int? {
        let after = Self.firstIndex(in: chunks) { $0[0].occupied.start > start }
        return after > 0 ? after - 1 : nil
    }

    /// The last chunk whose first entry starts strictly before `start`: entries starting at `start` may begin
    /// in it.
    private func lastChunk(startingBefore start: Date) -> Int? {
        let atOrAfter = Self.firstIndex(in: chunks) { $0[0].occupied.start >= start }
        return atOrAfter > 0 ? atOrAfter - 1 : nil
    }

    /// The first index of `elements` where the monotone `predicate` holds (its count when it never does).
    private static func firstIndex<Element>(in elements: [Element], where predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = elements.count
        while low < high {
            let middle = (low + high) / 2
            if predicate(elements[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
