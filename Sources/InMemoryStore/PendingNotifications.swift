import Foundation

/// The ids of the `pending` notifications, in the order claims take them: by next attempt, then by id.
///
/// Kept in sorted chunks of at most ``maximumChunk`` entries, so adding or removing one moves at most one
/// chunk's entries, and a claim reads from the front only as far as the notifications that are due: its cost
/// stays flat however many notifications wait (a dispatcher that lags 100,000 bookings behind, say).
struct PendingNotifications {
    /// A pending notification's place in the order.
    private struct Entry: Comparable {
        var due: Date
        var id: Int64

        static func < (lhs: Entry, rhs: Entry) -> Bool { (lhs.due, lhs.id) < (rhs.due, rhs.id) }
    }

    private static let maximumChunk = 512
    private var chunks: [[Entry]] = []
    private var dueByID: [Int64: Date] = [:]

    /// The ids of every pending notification, in no order.
    var ids: Dictionary<Int64, Date>.Keys { dueByID.keys }

    /// Adds notification `id`, next attempted at `due`, or moves it there if it is already pending.
    mutating func insert(_ id: Int64, due: Date) {
        remove(id)
        dueByID[id] = due
        let entry = Entry(due: due, id: id)
        guard !chunks.isEmpty else {
            chunks = [[entry]]
            return
        }
        // The last chunk whose first entry comes before the new one (or the first chunk).
        let chunk = max(0, Self.firstIndex(in: chunks) { entry < $0[0] } - 1)
        chunks[chunk].insert(entry, at: Self.firstIndex(in: chunks[chunk]) { entry < $0 })
        if chunks[chunk].count > Self.maximumChunk {
            let half = chunks[chunk].count / 2
            chunks.insert(Array(chunks[chunk][half...]), at: chunk + 1)
            chunks[chunk].removeSubrange(half...)
        }
    }

    /// Removes notification `id` if it is pending.
    mutating func remove(_ id: Int64) {
        guard let due = dueByID.removeValue(forKey: id) else { return }
        let entry = Entry(due: due, id: id)
        let chunk = max(0, Self.firstIndex(in: chunks) { entry < $0[0] } - 1)
        let index = Self.firstIndex(in: chunks[chunk]) { entry <= $0 }
        guard index < chunks[chunk].count, chunks[chunk][index] == entry else {
            assertionFailure("pending notification \(id) is missing from its chunk")
            return
        }
        chunks[chunk].remove(at: index)
        if chunks[chunk].isEmpty { chunks.remove(at: chunk) }
    }

    /// Calls `body` with the id of each notification due at or before `now`, in order, until `body` returns
    /// `false`.
    func forEachDue(atOrBefore now: Date, _ body: (Int64) -> Bool) {
        for chunk in chunks {
            for entry in chunk {
                guard entry.due <= now, body(entry.id) else { return }
            }
        }
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
