public import Foundation

/// Writes RFC 5545 iCalendar text: content lines ended by CRLF, folded at 75 octets without splitting a
/// UTF-8 sequence, and `TEXT` values escaped.
///
/// ```swift
/// var writer = ICalendarWriter()
/// writer.begin("VCALENDAR")
/// writer.property("VERSION", value: "2.0")
/// writer.property("X-WR-CALNAME", text: "Dr. Lee; room 2, east wing")  // written as Dr. Lee\; room 2\, east wing
/// writer.end("VCALENDAR")
/// print(writer.text)
/// ```
///
/// ``AppointmentCalendar`` uses it to write appointments; it knows nothing about them.
public struct ICalendarWriter: Sendable {
    /// The longest content line, in octets without its CRLF (RFC 5545 section 3.1).
    public static let maximumLineOctets = 75

    /// What was written so far: whole lines, each ended by CRLF.
    public private(set) var text = ""

    /// Creates an empty writer.
    public init() {}

    /// Writes `BEGIN:<component>`, e.g. `VCALENDAR` or `VEVENT`.
    public mutating func begin(_ component: String) { property("BEGIN", value: component) }

    /// Writes `END:<component>`.
    public mutating func end(_ component: String) { property("END", value: component) }

    /// Writes `name:value` with `value` as given: for values already in their type's form (an integer,
    /// `2.0`, `REQUEST`), never for text a person wrote.
    public mutating func property(_ name: String, value: String) { text += Self.fold(name + ":" + value) }

    /// Writes a property of value type `TEXT`, escaped by ``escape(_:)``.
    public mutating func property(_ name: String, text value: String) { property(name, value: Self.escape(value)) }

    /// Writes a property of value type `DATE-TIME` in UTC, as ``dateTime(_:)`` writes it.
    public mutating func property(_ name: String, dateTime: Date) { property(name, value: Self.dateTime(dateTime)) }

    /// `text` as an RFC 5545 `TEXT` value: backslash, semicolon and comma escaped with a backslash,
    /// each line break (CRLF, LF or CR) written as `\n`, and the control characters `TEXT` cannot hold
    /// (all but the tab) left out.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        var afterCR = false
        for scalar in text.unicodeScalars {
            defer { afterCR = scalar == "\r" }
            switch scalar {
            case "\\": escaped += "\\\\"
            case ";": escaped += "\\;"
            case ",": escaped += "\\,"
            case "\r": escaped += "\\n"
            case "\n": if !afterCR { escaped += "\\n" }
            case "\t": escaped.unicodeScalars.append(scalar)
            case "\u{00}"..."\u{1F}", "\u{7F}": continue
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// `date` as a UTC `DATE-TIME`, to the second: `20271224T090000Z` (years 0000-9999, the ones RFC 5545
    /// can write).
    public static func dateTime(_ date: Date) -> String {
        // 2027-12-24T09:00:00.000Z without its separators and milliseconds.
        String(date.iso8601WithMilliseconds.dropLast(5).filter { $0 != "-" && $0 != ":" }) + "Z"
    }

    /// One content line, folded: CRLF and a space before the octet that would make a line longer than
    /// ``maximumLineOctets`` (the space counts), never inside a UTF-8 sequence; ends with CRLF.
    public static func fold(_ line: String) -> String {
        var folded = ""
        var octets = 0
        for scalar in line.unicodeScalars {
            let width = UTF8.width(scalar)
            if octets + width > maximumLineOctets {
                folded += "\r\n "
                octets = 1
            }
            folded.unicodeScalars.append(scalar)
            octets += width
        }
        return folded + "\r\n"
    }
}
