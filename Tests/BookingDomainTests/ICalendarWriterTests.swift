import BookingDomain
import Foundation
import Testing

@Suite("iCalendar writer (RFC 5545)")
struct ICalendarWriterTests {
    /// The physical lines of `text`, which must end in CRLF and use no bare CR or LF.
    func lines(_ text: String) throws -> [Substring] {
        // "\r\n" is one Character: split on it, and the text ends with it when the last piece is empty.
        let pieces = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        #expect(pieces.last == "")
        let lines = pieces.dropLast()
        for line in lines { #expect(!line.contains("\n") && !line.contains("\r"), "a bare line break in \(line)") }
        return Array(lines)
    }

    /// RFC 5545 section 3.1 unfolding: a CRLF followed by one space or tab is removed.
    func unfold(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n ", with: "").replacingOccurrences(of: "\r\n\t", with: "")
    }

    @Test("TEXT escapes backslash, semicolon and comma, writes each line break as \\n and drops controls but tab")
    func escaping() {
        #expect(ICalendarWriter.escape(#"a\b;c,d"#) == #"a\\b\;c\,d"#)
        #expect(ICalendarWriter.escape("one\r\ntwo\nthree\rfour") == #"one\ntwo\nthree\nfour"#)
        #expect(ICalendarWriter.escape("tab\there\u{0}\u{7}\u{1B}\u{7F}") == "tab\there")
        #expect(ICalendarWriter.escape("Zoë 👩🏽‍⚕️ دکتر") == "Zoë 👩🏽‍⚕️ دکتر")
        #expect(ICalendarWriter.escape("\r\n\r\n") == #"\n\n"#, "two CRLFs are two line breaks, not three")
    }

    @Test("a long line of multi-byte names folds at 75 octets, never inside a UTF-8 sequence, and unfolds exactly")
    func foldingMultiByte() throws {
        // 2-, 3- and 4-byte scalars, a ZWJ emoji sequence and combining marks, long enough to fold many times.
        let name = String(repeating: "Zoë Ångström 東京 𝄞 👩🏽‍⚕️ é ", count: 12)
        var writer = ICalendarWriter()
        writer.property("SUMMARY", text: name)
        let folded = writer.text
        let physical = try lines(folded)
        #expect(physical.count > 5)
        for (index, line) in physical.enumerated() {
            #expect(line.utf8.count <= ICalendarWriter.maximumLineOctets, "line \(index): \(line.utf8.count) octets")
            #expect(index == 0 || line.hasPrefix(" "), "a continuation line starts with a space")
            // Each physical line is valid UTF-8 on its own: no sequence was cut.
            #expect(String(validating: Array(line.utf8), as: UTF8.self) != nil)
        }
        // The fold is as late as it can be: a line is short only by less than the next scalar's width.
        for (line, next) in zip(physical, physical.dropFirst()) {
            let nextScalar = try #require(next.dropFirst().unicodeScalars.first)
            #expect(line.utf8.count + UTF8.width(nextScalar) > ICalendarWriter.maximumLineOctets)
        }
        #expect(unfold(folded) == "SUMMARY:" + ICalendarWriter.escape(name) + "\r\n")
    }

    @Test("a line of exactly 75 octets is not folded; 76 octets are")
    func foldingBoundary() {
        let exactly = "X-A:" + String(repeating: "a", count: 71)
        #expect(ICalendarWriter.fold(exactly) == exactly + "\r\n")
        let over = exactly + "b"
        #expect(ICalendarWriter.fold(over) == exactly + "\r\n b\r\n")
        // A 2-byte scalar that would end at octet 76 moves whole to the next line.
        let twoByte = "X-A:" + String(repeating: "a", count: 70) + "é"
        #expect(ICalendarWriter.fold(twoByte) == "X-A:" + String(repeating: "a", count: 70) + "\r\n é\r\n")
    }

    @Test("DATE-TIME values are UTC to the second: 20271224T090000Z")
    func dateTime() throws {
        #expect(ICalendarWriter.dateTime(Date(millisecondsSince1970: 1_829_638_800_000)) == "20271224T090000Z")
        #expect(ICalendarWriter.dateTime(Date(millisecondsSince1970: 1_829_638_800_999)) == "20271224T090000Z")
        #expect(ICalendarWriter.dateTime(Date(millisecondsSince1970: 0)) == "19700101T000000Z")
        // A clock that read NaN (a DTSTAMP is the clock's) writes as 1970, as its milliseconds count, not a trap.
        #expect(ICalendarWriter.dateTime(Date(timeIntervalSince1970: .nan)) == "19700101T000000Z")
    }

    @Test("components and properties are written in order, each line ended by CRLF")
    func components() throws {
        var writer = ICalendarWriter()
        writer.begin("VCALENDAR")
        writer.property("VERSION", value: "2.0")
        writer.property("X-WR-CALNAME", text: "Dr. Lee; room 2, east wing")
        writer.end("VCALENDAR")
        #expect(
            try lines(writer.text) == [
                "BEGIN:VCALENDAR", "VERSION:2.0", #"X-WR-CALNAME:Dr. Lee\; room 2\, east wing"#, "END:VCALENDAR",
            ])
    }
}
