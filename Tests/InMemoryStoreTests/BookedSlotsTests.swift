import BookingDomain
import Foundation
import TestSupport
import Testing

@testable import InMemoryStore

@Suite("in-memory booked slots")
struct BookedSlotsTests {
    @Test("chunked inserts, removals and window reads agree with a plain sorted list over 6,000 random steps")
    func agreesWithAPlainList() throws {
        var generator = SeededGenerator(seed: 20_261_128)
        var slots = BookedSlots()
        var model: [Int64: TimeSlot] = [:]
        let origin = Date(timeIntervalSince1970: 1_800_000_000)
        func interval(_ minute: Int, _ length: Int) throws -> TimeSlot {
            try TimeSlot(
                start: origin.addingTimeInterval(Double(minute) * 60),
                end: origin.addingTimeInterval(Double(minute + length) * 60))
        }
        for id in Int64(1)...6_000 {
            if !model.isEmpty && Int.random(in: 0..<4, using: &generator) == 0 {
                let victim = try #require(model.keys.randomElement(using: &generator))
                slots.remove(id: victim, occupiedStart: try #require(model[victim]).start)
                model[victim] = nil
            } else {
                // Seats: many entries share a start, as the seats of one slot do; lengths vary, as buffers make them.
                let occupied = try interval(
                    Int.random(in: 0..<3_000, using: &generator) * 5,
                    [30, 30, 30, 90, 600][Int.random(in: 0..<5, using: &generator)])
                slots.insert(slot: occupied, occupied: occupied, id: id)
                model[id] = occupied
            }
            if id % 500 == 0 {
                let window = try interval(Int.random(in: 0..<15_000, using: &generator), 400)
                let expected = model.filter { $0.value.overlaps(window) }.map(\.key).sorted()
                let found = slots.overlapping(window)
                #expect(found.map(\.id).sorted() == expected)
                #expect(zip(found, found.dropFirst()).allSatisfy { $0.occupied.start <= $1.occupied.start })
            }
        }
        let everything = try interval(-100, 20_000)
        #expect(slots.overlapping(everything).map(\.id).sorted() == model.keys.sorted())
    }
}
