public import Foundation

extension Date {
    /// Whole milliseconds since 1970-01-01T00:00:00Z, rounded to the nearest: the precision every store keeps.
    public var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// The instant `milliseconds` after 1970-01-01T00:00:00Z.
    public init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// This instant rounded to the nearest millisecond.
    public var roundedToMilliseconds: Date { Date(millisecondsSince1970: millisecondsSince1970) }
}

extension Date {
    /// ISO 8601 in UTC with milliseconds, as the API and webhooks write instants: `2027-03-01T09:00:00.000Z`.
    ///
    /// Written from ``millisecondsSince1970`` (the nearest millisecond), never truncated: Foundation's
    /// format style drops a millisecond whenever the binary fraction falls just below it.
    public var iso8601WithMilliseconds: String { ISO8601Milliseconds.string(from: millisecondsSince1970) }
}

/// Writes instants as ISO 8601 text from integer milliseconds, without Foundation's calendar.
enum ISO8601Milliseconds {
    private static let millisecondsPerDay: Int64 = 86_400_000

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for years 0000-9999; outside them the year is signed with six digits
    /// (ISO 8601's expanded form), e.g. `+010000-01-01T00:00:00.000Z`.
    static func string(from milliseconds: Int64) -> String {
        let days = floorDivide(milliseconds, millisecondsPerDay)
        let withinDay = milliseconds - days * millisecondsPerDay
        let (year, month, day) = LocalDate(daysSinceEpoch: Int(days)).components
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        if (0...9999).contains(year) {
            append(Int64(year), width: 4, to: &bytes)
        } else {
            bytes.append(year < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            append(Int64(abs(year)), width: 6, to: &bytes)
        }
        bytes.append(UInt8(ascii: "-"))
        append(Int64(month), width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(Int64(day), width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        append(withinDay / 3_600_000, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(withinDay / 60_000 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(withinDay / 1000 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        append(withinDay % 1000, width: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    private static func append(_ value: Int64, width: Int, to bytes: inout [UInt8]) {
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: width)
        var rest = value
        var index = width - 1
        while index >= 0 {
            digits[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            index -= 1
        }
        bytes.append(contentsOf: digits)
    }
}
