import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@testable import BookingServer

@Suite("availability JSON writer")
struct SlotListJSONTests {
    /// What `JSONEncoder` with sorted keys writes for `{start, end, seats_left}` objects.
    struct EncodedSlot: Encodable {
        let start: String
        let end: String
        let seatsLeft: Int

        enum CodingKeys: String, CodingKey {
            case start, end
            case seatsLeft = "seats_left"
        }
    }

    /// What `JSONEncoder` with sorted keys writes for the slots.
    static func encodedByJSONEncoder(_ slots: [AvailableSlot]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(
            try encoder.encode(
                slots.map {
                    EncodedSlot(
                        start: $0.slot.start.iso8601WithMilliseconds, end: $0.slot.end.iso8601WithMilliseconds,
                        seatsLeft: $0.seatsLeft)
                }))
    }

    @Test("writes the same bytes as JSONEncoder with sorted keys", arguments: [0, 1, 2, 2016])
    func sameBytesAsJSONEncoder(_ count: Int) throws {
        let seats = [1, 2, 9, 10, 11, 99, 100, 999, 1000, 10_000, Int.max]
        var slots: [AvailableSlot] = []
        var start = Date(millisecondsSince1970: 1_803_888_000_001)
        for index in 0..<count {
            let end = start.addingTimeInterval(index.isMultiple(of: 7) ? 299.9996 : 300)
            slots.append(
                AvailableSlot(slot: try TimeSlot(start: start, end: end), seatsLeft: seats[index % seats.count]))
            start = end
        }
        slots.append(contentsOf: [
            AvailableSlot(
                slot: try TimeSlot(start: Date(millisecondsSince1970: -1), end: Date(millisecondsSince1970: 0)),
                seatsLeft: 1),
            AvailableSlot(
                slot: try TimeSlot(
                    start: Date(millisecondsSince1970: 253_402_300_799_999),
                    end: Date(millisecondsSince1970: 253_402_300_800_000)),
                seatsLeft: 3),
        ])
        let expected = try Self.encodedByJSONEncoder(slots)
        #expect(Array(SlotListJSON.buffer(slots).readableBytesView) == expected)
        #expect(Array(SlotListJSON.buffer([]).readableBytesView) == Array("[]".utf8))
        let response = SlotListJSON.response(slots)
        #expect(response.headers[.contentType] == "application/json; charset=utf-8")
        #expect(response.headers[.cacheControl] == "no-store")
    }

    @Test("the longest slots (years past 9999 and before 0000, the most digits of seats) fill the room sized for them")
    func longestSlots() throws {
        let far = try TimeSlot(
            start: Date(millisecondsSince1970: 253_433_923_199_000),
            end: Date(millisecondsSince1970: 253_433_923_199_999))
        let before = try TimeSlot(
            start: Date(millisecondsSince1970: -62_167_219_200_999),
            end: Date(millisecondsSince1970: -62_167_219_200_001))
        let slots = (0..<100).map { AvailableSlot(slot: $0.isMultiple(of: 2) ? far : before, seatsLeft: .min) }
        let expected = try Self.encodedByJSONEncoder(slots)
        let written = SlotListJSON.buffer(slots)
        #expect(Array(written.readableBytesView) == expected)
        // Each object takes 110 bytes with its comma, the first without one (the room sized for one is wider by
        // what a copied instant's store needs past its text).
        #expect(written.readableBytes == 1 + 110 * slots.count)
        // Slots that follow each other in the expanded years: each start is a copy of the end before it.
        let first: Int64 = 253_433_923_000_000
        let chained = try (Int64(0)..<100).map { index in
            AvailableSlot(
                slot: try TimeSlot(
                    start: Date(millisecondsSince1970: first + index * 1_999),
                    end: Date(millisecondsSince1970: first + (index + 1) * 1_999)),
                seatsLeft: .min)
        }
        #expect(Array(SlotListJSON.buffer(chained).readableBytesView) == (try Self.encodedByJSONEncoder(chained)))
    }

    @Test("writes every count of seats in decimal", arguments: [0, 1, 9, 10, 42, 100, 10_000, Int.max, -7, Int.min])
    func decimal(_ value: Int) {
        let written = withUnsafeTemporaryAllocation(byteCount: 20, alignment: 1) { memory in
            var text = SlotListJSON.Text(memory: memory)
            text.appendDecimal(value)
            return Array(UnsafeRawBufferPointer(rebasing: memory[..<text.count]))
        }
        #expect(String(decoding: written, as: UTF8.self) == String(value))
    }
}
