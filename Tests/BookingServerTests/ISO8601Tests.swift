import BookingDomain
import Foundation
import Testing

@testable import BookingServer

@Suite("ISO 8601 instants in requests")
struct ISO8601Tests {
    /// What Foundation reads from text of the strict shape.
    static func foundation(_ text: String) -> Date? {
        for style in [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()] {
            if let date = try? style.parse(text) { return date }
        }
        return nil
    }

    @Test("reads the instant Foundation reads, for every field's range, fractions and offsets")
    func sameInstantAsFoundation() {
        var generator = SystemRandomNumberGenerator()
        var texts = [
            "1600-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2000-02-29T23:59:59.999Z",
            "2027-03-28T01:00:00+01:00", "9999-12-31T23:59:59.999999999-18:00", "2027-03-01T10:00:00.5+00:00",
            "2027-03-01T10:00:00-00:00", "2100-03-01T00:00:00+18:00",
        ]
        for _ in 0..<3000 {
            let year = Int.random(in: 1600...9999, using: &generator)
            let month = Int.random(in: 1...12, using: &generator)
            let day = Int.random(in: 1...28, using: &generator)
            var text = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day,
                Int.random(in: 0...23, using: &generator), Int.random(in: 0...59, using: &generator),
                Int.random(in: 0...59, using: &generator))
            let digits = Int.random(in: 0...9, using: &generator)
            if digits > 0 {
                text += "." + String((0..<digits).map { _ in "0123456789".randomElement(using: &generator)! })
            }
            if Bool.random(using: &generator) {
                text += "Z"
            } else {
                text += String(
                    format: "%@%02d:%02d", Bool.random(using: &generator) ? "+" : "-",
                    Int.random(in: 0...17, using: &generator), Int.random(in: 0...59, using: &generator))
            }
            texts.append(text)
        }
        for text in texts {
            let ours = ISO8601.parse(text)
            let theirs = Self.foundation(text)
            #expect(ours != nil, "\(text)")
            if text.contains(".") && !text.contains(".000") {
                // A fraction is one Double either way; Foundation may round its last bit differently.
                #expect(
                    abs((ours?.timeIntervalSince1970 ?? 0) - (theirs?.timeIntervalSince1970 ?? 1)) < 1e-6, "\(text)")
            } else {
                #expect(ours == theirs, "\(text)")
            }
        }
    }

    @Test("an offset beyond 18 hours is refused, as Foundation refuses it")
    func offsetsBeyondEighteenHours() {
        for text in ["2027-03-01T10:00:00+18:01", "2027-03-01T10:00:00-19:00", "2027-03-01T10:00:00.5+23:59"] {
            #expect(ISO8601.parse(text) == nil, "\(text)")
            #expect(Self.foundation(text) == nil, "\(text)")
        }
    }

    @Test("whole seconds and milliseconds are exact")
    func exactMilliseconds() {
        #expect(ISO8601.parse("2027-03-01T10:00:00+01:00")?.millisecondsSince1970 == 1_803_891_600_000)
        #expect(ISO8601.parse("2027-03-01T09:00:00.123Z")?.millisecondsSince1970 == 1_803_891_600_123)
        #expect(ISO8601.parse("2027-03-01T04:15:00.001-04:45")?.millisecondsSince1970 == 1_803_891_600_001)
        #expect(ISO8601.parse("1970-01-01T00:00:00Z") == Date(timeIntervalSince1970: 0))
        #expect(ISO8601.parse("0001-01-01T00:00:00Z") == Date(timeIntervalSince1970: -62_135_596_800), "proleptic")
    }
}
