import BookingDomain
import Testing

@Suite("resource ids")
struct ResourceIDTests {
    @Test("an id is 1-64 letters, digits, '-', '_' or '.', but not dots alone, which a URL reads as path steps")
    func validIDs() throws {
        for text in ["default", "dr-lee", "room_2", "a.b", ".hidden", "v1.", String(repeating: "x", count: 64)] {
            #expect(ResourceID(rawValue: text)?.rawValue == text, "\(text)")
        }
        for text in [".", "..", "...", "", "dr lee", "dr/lee", "é", String(repeating: "x", count: 65)] {
            #expect(ResourceID(rawValue: text) == nil, "\(text)")
            let error = #expect(throws: BookingError.self) { try ResourceID.parse(text) }
            #expect(error?.fieldErrors["resource"] == ResourceID.accepted)
        }
    }
}
