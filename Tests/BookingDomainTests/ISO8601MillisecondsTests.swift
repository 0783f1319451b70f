import BookingDomain
import Foundation
import Testing

@Suite("ISO 8601 output from integer milliseconds")
struct ISO8601MillisecondsTests {
    @Test("10,000 consecutive milliseconds format, then parse back, exactly")
    func consecutiveMilliseconds() throws {
        let parser = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let first: Int64 = 1_803_888_000_000 - 5_000
        for milliseconds in first..<(first + 10_000) {
            let text = Date(millisecondsSince1970: milliseconds).iso8601WithMilliseconds
            #expect(try parser.parse(text).millisecondsSince1970 == milliseconds, "\(milliseconds) -> \(text)")
        }
    }

    @Test(
        "every whole minute of a day, in four-digit and expanded years, in the shortest buffer and a longer one",
        arguments: [1_803_888_000_000 - 8 * 3_600_000, 253_402_300_800_000] as [Int64],
        [ISO8601MillisecondsWriter.maximumLength, ISO8601MillisecondsWriter.maximumLength + 16])
    func wholeMinutes(_ midnight: Int64, bufferLength: Int) throws {
        var writer = ISO8601MillisecondsWriter()
        let texts = withUnsafeTemporaryAllocation(byteCount: bufferLength, alignment: 1) { memory in
            (0..<1440).map { minute in
                let count = writer.write(Date(millisecondsSince1970: midnight + Int64(minute) * 60_000), into: memory)
                return String(decoding: UnsafeRawBufferPointer(rebasing: memory[..<count]), as: UTF8.self)
            }
        }
        let parser = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for (minute, text) in texts.enumerated() {
            let milliseconds = midnight + Int64(minute) * 60_000
            #expect(text == Date(millisecondsSince1970: milliseconds).iso8601WithMilliseconds)
            #expect(text.hasSuffix(String(format: "T%02d:%02d:00.000Z", minute / 60, minute % 60)), "\(text)")
            if midnight < 253_402_300_800_000 {
                #expect(try parser.parse(text).millisecondsSince1970 == milliseconds, "\(text)")
            } else {
                #expect(text.hasPrefix("+010000-01-01T"), "\(text)")
            }
        }
    }

    @Test(
        "known instants, leap days, before 1970 and far ahead",
        arguments: [
            (0, "1970-01-01T00:00:00.000Z"), (-1, "1969-12-31T23:59:59.999Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"), (1_803_888_000_001, "2027-03-01T08:00:00.001Z"),
            (4_107_542_399_999, "2100-02-28T23:59:59.999Z"), (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"), (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
            (253_402_300_800_000, "+010000-01-01T00:00:00.000Z"),
            (-62_167_219_200_001, "-000001-12-31T23:59:59.999Z"), (253_433_923_199_999, "+010000-12-31T23:59:59.999Z"),
        ] as [(Int64, String)])
    func knownInstants(_ milliseconds: Int64, _ expected: String) {
        #expect(Date(millisecondsSince1970: milliseconds).iso8601WithMilliseconds == expected)
    }

    @Test("every day of 1900-2200 matches Foundation's Gregorian calendar")
    func matchesCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        let firstDay: Int64 = -25_567
        for day in stride(from: firstDay, to: firstDay + 109_574, by: 1) {
            let milliseconds = day * 86_400_000 + 45_296_789
            let date = Date(millisecondsSince1970: milliseconds)
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            let expected = String(
                format: "%04d-%02d-%02dT12:34:56.789Z", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
            if date.iso8601WithMilliseconds != expected {
                Issue.record("day \(day): \(date.iso8601WithMilliseconds) != \(expected)")
                return
            }
        }
    }

    @Test(
        "appending writes the same text after what the buffer holds",
        arguments: [0, -1, 1_803_888_000_001, 253_402_300_800_000] as [Int64])
    func appending(_ milliseconds: Int64) {
        let date = Date(millisecondsSince1970: milliseconds)
        var bytes = Array("[\"".utf8)
        date.appendISO8601WithMilliseconds(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "[\"" + date.iso8601WithMilliseconds)
    }

    @Test("one writer, instants in any order across days and years, writes each as on its own")
    func writerRemembersDays() {
        var generator = SystemRandomNumberGenerator()
        var instants: [Int64] = [0, -1, 86_399_999, 86_400_000, 253_402_300_799_999, 253_402_300_800_000, -1]
        for _ in 0..<5_000 {
            instants.append(Int64.random(in: -100_000_000_000_000...300_000_000_000_000, using: &generator))
        }
        var run = Int64(1_803_888_000_000)
        for _ in 0..<2_000 {
            run += Int64.random(in: 0...600_000, using: &generator)
            instants.append(run)
        }
        var writer = ISO8601MillisecondsWriter()
        withUnsafeTemporaryAllocation(byteCount: ISO8601MillisecondsWriter.maximumLength, alignment: 1) { memory in
            for milliseconds in instants {
                let date = Date(millisecondsSince1970: milliseconds)
                let count = writer.write(date, into: memory)
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: memory[..<count]), as: UTF8.self)
                if text != date.iso8601WithMilliseconds {
                    Issue.record("\(milliseconds): \(text) != \(date.iso8601WithMilliseconds)")
                    return
                }
            }
        }
    }

    @Test(
        "a Date beyond every text, or of NaN seconds, writes the nearest instant the expanded form covers, never traps",
        arguments: [
            (Double.nan, 0, "1970-01-01T00:00:00.000Z"),
            (Double.infinity, Int64.max, "+999999-12-31T23:59:59.999Z"),
            (-Double.infinity, Int64.min, "-999999-01-01T00:00:00.000Z"),
            (1e300, Int64.max, "+999999-12-31T23:59:59.999Z"),
            (9.3e15, Int64.max, "+999999-12-31T23:59:59.999Z"),
            (1e15, 1_000_000_000_000_000_000, "+999999-12-31T23:59:59.999Z"),
            (-1e15, -1_000_000_000_000_000_000, "-999999-01-01T00:00:00.000Z"),
        ] as [(Double, Int64, String)])
    func beyondEveryText(_ seconds: Double, _ milliseconds: Int64, _ expected: String) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(date.millisecondsSince1970 == milliseconds)
        #expect(date.iso8601WithMilliseconds == expected)
        var writer = ISO8601MillisecondsWriter()
        let written = withUnsafeTemporaryAllocation(byteCount: ISO8601MillisecondsWriter.maximumLength, alignment: 1) {
            memory in
            let count = writer.write(date, into: memory)
            return String(decoding: UnsafeRawBufferPointer(rebasing: memory[..<count]), as: UTF8.self)
        }
        #expect(written == expected)
    }
}
