import BookingDomain
import Foundation
import Testing

@testable import BookingServer

@Suite("ISO 8601 instants in requests", .cpuBound)
struct ISO8601Tests {
    /// What Foundation reads from text of the strict shape.
    static func foundation(_ text: String) -> Date? {
        for style in [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()] {
            if let date = try? style.parse(text) { return date }
        }
        return nil
    }

    @Test("reads the instant Foundation reads from 1582-10-15 on, for every field's range, fractions and offsets")
    func sameInstantAsFoundation() {
        var generator = SystemRandomNumberGenerator()
        var texts = [
            "1582-10-15T00:00:00Z", "1600-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
            "2000-02-29T23:59:59.999Z",
            "2027-03-28T01:00:00+01:00", "9999-12-31T23:59:59.999999999-18:00", "2027-03-01T10:00:00.5+00:00",
            "2027-03-01T10:00:00-00:00", "2100-03-01T00:00:00+18:00",
        ]
        for _ in 0..<3000 {
            let year = Int.random(in: 1583...9999, using: &generator)
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
            let fraction = text.split(separator: ".").dropFirst().first?.prefix { $0.isNumber } ?? ""
            if fraction.contains(where: { $0 != "0" }) {
                // Foundation adds the fraction in another order, so the last bit of the Double may differ.
                let ourSeconds = ours?.timeIntervalSinceReferenceDate ?? 0
                let theirSeconds = theirs?.timeIntervalSinceReferenceDate ?? 1
                #expect(abs(ourSeconds - theirSeconds) <= 2 * ourSeconds.ulp, "\(text)")
            } else {
                #expect(ours == theirs, "\(text)")
            }
        }
    }

    @Test("every date from year 1 to 9999 reads as the instant the server writes for it (proleptic Gregorian)")
    func roundTripsWithTheWriter() {
        var generator = SystemRandomNumberGenerator()
        var milliseconds: [Int64] = [
            -62_135_596_800_000, -12_219_292_800_001, -12_219_292_800_000, 253_402_300_799_999,
        ]
        for _ in 0..<3000 {
            milliseconds.append(Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &generator))
        }
        for value in milliseconds {
            let date = Date(millisecondsSince1970: value)
            #expect(ISO8601.parse(date.iso8601WithMilliseconds)?.millisecondsSince1970 == value, "\(value)")
        }
    }

    @Test("an offset beyond 18 hours is refused, as Foundation refuses it")
    func offsetsBeyondEighteenHours() {
        for text in ["2027-03-01T10:00:00+18:01", "2027-03-01T10:00:00-19:00", "2027-03-01T10:00:00.5+23:59"] {
            #expect(ISO8601.parse(text) == nil, "\(text)")
            #expect(Self.foundation(text) == nil, "\(text)")
        }
    }

    @Test("RFC 3339's lower-case t and z read as T and Z; other shapes stay refused")
    func lowerCaseSeparators() {
        let instant = ISO8601.parse("2027-03-01T09:00:00.123Z")
        #expect(instant != nil)
        for text in ["2027-03-01t09:00:00.123z", "2027-03-01t09:00:00.123Z", "2027-03-01T09:00:00.123z"] {
            #expect(ISO8601.parse(text) == instant, "\(text)")
        }
        for text in [
            "2027-03-01 09:00:00Z", "2027-03-01T09:00:00+0100", "2027-03-01", "2027-03-01T09:00:00",
            "2027-03-01x09:00:00Z",
            "2027-03-01T09:00:00y", "2027-03-01T09:00:00Zz", "2027-03-01\u{14}09:00:00Z",
        ] {
            #expect(ISO8601.parse(text) == nil, "\(text)")
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
