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
    public var iso8601WithMilliseconds: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ISO8601Milliseconds.maximumLength)
        appendISO8601WithMilliseconds(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``iso8601WithMilliseconds`` as UTF-8 to `bytes`, without making a `String`: for writers
    /// of long JSON answers.
    public func appendISO8601WithMilliseconds(to bytes: inout [UInt8]) {
        ISO8601Milliseconds.append(millisecondsSince1970, to: &bytes)
    }
}

/// Writes instants as ISO 8601 text from integer milliseconds, without Foundation's calendar.
enum ISO8601Milliseconds {
    private static let millisecondsPerDay: Int64 = 86_400_000
    /// The longest text written: the expanded form, `+010000-01-01T00:00:00.000Z`.
    static let maximumLength = 27

    /// Appends `YYYY-MM-DDTHH:MM:SS.mmmZ` for years 0000-9999; outside them the year is signed with six
    /// digits (ISO 8601's expanded form), e.g. `+010000-01-01T00:00:00.000Z`.
    static func append(_ milliseconds: Int64, to bytes: inout [UInt8]) {
        // One fixed-size scratch buffer on the stack, filled by index: no per-digit append.
        var scratch: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { buffer in
            let count = write(milliseconds, into: buffer)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    /// Writes the text into `buffer`, which holds at least ``maximumLength`` bytes; returns its length.
    private static func write(_ milliseconds: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let days = floorDivide(milliseconds, millisecondsPerDay)
        let withinDay = Int(milliseconds - days * millisecondsPerDay)
        let (year, month, day) = LocalDate(daysSinceEpoch: Int(days)).components
        var index = 0
        func digits(_ value: Int, _ width: Int) {
            var rest = value
            var position = index + width - 1
            while position >= index {
                buffer[position] = UInt8(truncatingIfNeeded: 48 + rest % 10)
                rest /= 10
                position -= 1
            }
            index += width
        }
        func byte(_ ascii: Unicode.Scalar) {
            buffer[index] = UInt8(ascii: ascii)
            index += 1
        }
        if (0...9999).contains(year) {
            digits(year, 4)
        } else {
            byte(year < 0 ? "-" : "+")
            digits(abs(year), 6)
        }
        byte("-")
        digits(month, 2)
        byte("-")
        digits(day, 2)
        byte("T")
        digits(withinDay / 3_600_000, 2)
        byte(":")
        digits(withinDay / 60_000 % 60, 2)
        byte(":")
        digits(withinDay / 1000 % 60, 2)
        byte(".")
        digits(withinDay % 1000, 3)
        byte("Z")
        return index
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }
}
