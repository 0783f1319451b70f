import BookingDomain
import Foundation

/// ISO 8601 instants: with or without fractional seconds, `Z` or an offset.
///
/// The shape is strict (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, every field in range, an offset of at most
/// 18 hours as `TimeZone` allows, nothing before or after; `t` and `z` in lower case too, as RFC 3339 section 5.6
/// allows): Foundation's parser is lenient, reading February 30
/// as March 2 and hour 25 as the next day, and ignoring trailing text. The instant is then computed from the
/// fields (the ``BookingDomain/LocalDate``'s days, the time of day, minus the offset), without the per-call
/// set-up of `Date.ISO8601FormatStyle`: from 1582-10-15 on, the instant that reads too. Earlier dates are read
/// in the proleptic Gregorian calendar, as ISO 8601 and the instants this server writes have them, where
/// Foundation's calendar turns Julian.
enum ISO8601 {
    /// The instant `text` names, or `nil` when it is not of the shape above.
    static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { instant(UnsafeRawBufferPointer($0)) }
    }

    private static func instant(_ bytes: UnsafeRawBufferPointer) -> Date? {
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ index: Int, is character: Unicode.Scalar) -> Bool {
            index < bytes.count && bytes[index] == UInt8(ascii: character)
        }
        func letter(_ index: Int, is upperCase: Unicode.Scalar) -> Bool {
            index < bytes.count && bytes[index] | 0x20 == UInt8(ascii: upperCase) | 0x20
        }
        guard let year = number(0..<4), byte(4, is: "-"), let month = number(5..<7), byte(7, is: "-"),
            let day = number(8..<10), letter(10, is: "T"), let hour = number(11..<13), byte(13, is: ":"),
            let minute = number(14..<16), byte(16, is: ":"), let second = number(17..<19),
            let date = try? LocalDate(year: year, month: month, day: day), hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var index = 19
        var fraction = 0.0
        if byte(index, is: ".") {
            let digits = bytes[(index + 1)...].prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }.count
            guard (1...9).contains(digits), let value = number((index + 1)..<(index + 1 + digits)) else { return nil }
            var scale = 1
            for _ in 0..<digits { scale *= 10 }
            fraction = Double(value) / Double(scale)
            index += 1 + digits
        }
        var offsetSeconds = 0
        if letter(index, is: "Z") {
            guard index + 1 == bytes.count else { return nil }
        } else {
            guard byte(index, is: "+") || byte(index, is: "-"), let hours = number((index + 1)..<(index + 3)),
                byte(index + 3, is: ":"), let minutes = number((index + 4)..<(index + 6)),
                minutes <= 59, hours * 60 + minutes <= 18 * 60, index + 6 == bytes.count
            else { return nil }
            offsetSeconds = (hours * 3600 + minutes * 60) * (byte(index, is: "-") ? -1 : 1)
        }
        let seconds = date.daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        // Whole seconds exactly, counted from the reference date `Date` keeps, then the fraction.
        return Date(timeIntervalSinceReferenceDate: Double(seconds - 978_307_200) + fraction)
    }
}
