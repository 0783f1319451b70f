import Foundation
import TestSupport
import Testing

@testable import InMemoryStore

@Suite("in-memory pending notifications")
struct PendingNotificationsTests {
    @Test("chunked inserts, moves, removals and due reads agree with a plain sorted list over 8,000 random steps")
    func agreesWithAPlainList() throws {
        var generator = SeededGenerator(seed: 20_261_128)
        var pending = PendingNotifications()
        var model: [Int64: Date] = [:]
        let origin = Date(timeIntervalSince1970: 1_800_000_000)
        func instant(_ second: Int) -> Date { origin.addingTimeInterval(Double(second)) }
        var nextID: Int64 = 0
        for step in 1...8_000 {
            switch Int.random(in: 0..<6, using: &generator) {
            case 0 where !model.isEmpty:
                let victim = try #require(model.keys.randomElement(using: &generator))
                pending.remove(victim)
                model[victim] = nil
            case 1 where !model.isEmpty:
                // A retry: the same notification, attempted again later.
                let moved = try #require(model.keys.randomElement(using: &generator))
                let due = instant(Int.random(in: 0..<2_000, using: &generator))
                pending.insert(moved, due: due)
                model[moved] = due
            default:
                // Many notifications share a due instant, as a burst of bookings' do.
                nextID += 1
                let due = instant(Int.random(in: 0..<400, using: &generator) * 5)
                pending.insert(nextID, due: due)
                model[nextID] = due
            }
            pending.remove(-1)  // unknown: nothing changes
            if step % 400 == 0 {
                let now = instant(Int.random(in: 0..<2_100, using: &generator))
                let limit = Int.random(in: 1..<600, using: &generator)
                let expected = model.filter { $0.value <= now }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
                    .prefix(limit).map(\.key)
                var found: [Int64] = []
                pending.forEachDue(atOrBefore: now) { id in
                    found.append(id)
                    return found.count < limit
                }
                #expect(found == Array(expected))
                #expect(Set(pending.ids) == Set(model.keys))
            }
        }
        var everything: [Int64] = []
        pending.forEachDue(atOrBefore: instant(10_000)) { id in
            everything.append(id)
            return true
        }
        #expect(everything == model.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map(\.key))
    }
}
