import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@testable import BookingServer

@Suite("availability JSON writer")
struct SlotListJSONTests {
    /// What the server wrote before: `JSONEncoder` with sorted keys over `{start, end}` objects.
    struct EncodedSlot: Encodable {
        let start: String
        let end: String
    }

    @Test("writes the same bytes as JSONEncoder with sorted keys", arguments: [0, 1, 2, 2016])
    func sameBytesAsJSONEncoder(_ count: Int) throws {
        var slots: [TimeSlot] = []
        var start = Date(millisecondsSince1970: 1_803_888_000_001)
        for index in 0..<count {
            let end = start.addingTimeInterval(index.isMultiple(of: 7) ? 299.9996 : 300)
            slots.append(try TimeSlot(start: start, end: end))
            start = end
        }
        slots.append(contentsOf: [
            try TimeSlot(start: Date(millisecondsSince1970: -1), end: Date(millisecondsSince1970: 0)),
            try TimeSlot(
                start: Date(millisecondsSince1970: 253_402_300_799_999),
                end: Date(millisecondsSince1970: 253_402_300_800_000)),
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let expected = try encoder.encode(
            slots.map { EncodedSlot(start: $0.start.iso8601WithMilliseconds, end: $0.end.iso8601WithMilliseconds) })
        #expect(SlotListJSON.bytes(slots) == Array(expected))
        let response = SlotListJSON.response(slots)
        #expect(response.headers[.contentType] == "application/json; charset=utf-8")
        #expect(response.headers[.cacheControl] == "no-store")
    }
}
