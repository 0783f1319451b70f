public import Foundation

/// Writes instants as ISO 8601 text in UTC with milliseconds, `2027-03-01T09:00:00.000Z`, straight into
/// memory: for writers of long answers, such as a week of slots.
///
/// Each instant is written from its nearest millisecond (`Date.millisecondsSince1970`), never
/// truncated, and without Foundation's calendar. The writer remembers the day of the instant it wrote last,
/// so a run of instants on one day costs only their time of day. Years 0000-9999 take four digits; outside
/// them the year is signed with six (ISO 8601's expanded form), e.g. `+010000-01-01T00:00:00.000Z`, which
/// covers years -999,999 to 999,999: an instant beyond them is written as the nearest one they cover (and a `Date`
/// of NaN seconds as 1970-01-01T00:00:00.000Z, as `Date.millisecondsSince1970` counts it).
public struct ISO8601MillisecondsWriter: Sendable {
    /// The longest text written: the expanded form, `+010000-01-01T00:00:00.000Z`.
    public static let maximumLength = 27

    private static let millisecondsPerDay: Int64 = 86_400_000

    /// The milliseconds of the instants the expanded form covers: -999999-01-01T00:00:00.000Z to
    /// +999999-12-31T23:59:59.999Z.
    private static let writable: ClosedRange<Int64> =
        Int64(LocalDate.days(year: -999_999, month: 1, day: 1)) * millisecondsPerDay...Int64(
            LocalDate.days(year: 1_000_000, month: 1, day: 1)) * millisecondsPerDay - 1

    /// The day of ``datePart``, in days since 1970-01-01; `nil` before the first instant.
    private var day: Int64?
    /// `YYYY-MM-DDT` (or the expanded form's 14 bytes) of ``day``.
    private var datePart: (UInt64, UInt64) = (0, 0)
    /// How many bytes of ``datePart`` are text.
    private var datePartLength = 0

    /// A writer that has written nothing yet.
    public init() {}

    /// Writes `date` at the start of `buffer` and returns how many bytes it wrote (at most ``maximumLength``).
    /// Bytes of `buffer` past that count may be overwritten too (whole stores are faster than a text's length).
    ///
    /// - Precondition: `buffer` holds at least ``maximumLength`` bytes.
    public mutating func write(_ date: Date, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= Self.maximumLength, "an ISO 8601 instant needs \(Self.maximumLength) bytes")
        let milliseconds = min(max(date.millisecondsSince1970, Self.writable.lowerBound), Self.writable.upperBound)
        var days = milliseconds / Self.millisecondsPerDay
        if milliseconds % Self.millisecondsPerDay < 0 { days -= 1 }
        if days != day { rememberDay(days) }
        // All 16 bytes in one store, not a copy of the part's length: the time of day overwrites the rest.
        buffer.baseAddress!.storeBytes(of: datePart, as: (UInt64, UInt64).self)
        var index = datePartLength
        var withinDay = Int(milliseconds - days * Self.millisecondsPerDay)
        // An instant on a whole minute (as slots are): its time of day from the table, in one 16-byte store.
        if withinDay % 60_000 == 0 && index + 16 <= buffer.count {
            buffer.baseAddress!.storeBytes(
                of: Self.wholeMinutes[withinDay / 60_000], toByteOffset: index, as: (UInt64, UInt64).self)
            return index + Self.wholeMinuteLength
        }
        func twoDigits(_ value: Int) {
            buffer[index] = UInt8(truncatingIfNeeded: 48 + value / 10)
            buffer[index + 1] = UInt8(truncatingIfNeeded: 48 + value % 10)
            index += 2
        }
        func byte(_ ascii: Unicode.Scalar) {
            buffer[index] = UInt8(ascii: ascii)
            index += 1
        }
        let millisecond = withinDay % 1000
        withinDay /= 1000
        twoDigits(withinDay / 3600)
        byte(":")
        twoDigits(withinDay / 60 % 60)
        byte(":")
        twoDigits(withinDay % 60)
        byte(".")
        buffer[index] = UInt8(truncatingIfNeeded: 48 + millisecond / 100)
        index += 1
        twoDigits(millisecond % 100)
        byte("Z")
        return index
    }

    /// How many bytes of each of ``wholeMinutes`` are text: `HH:MM:00.000Z`.
    private static let wholeMinuteLength = 13

    /// The time of day of each minute of a day, `HH:MM:00.000Z`, in 16 bytes (the last three not text).
    private static let wholeMinutes: [(UInt64, UInt64)] = (0..<1440).map { minute in
        var text: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &text) { bytes in
            let digits = Array(String(format: "%02d:%02d:00.000Z", minute / 60, minute % 60).utf8)
            precondition(digits.count == wholeMinuteLength, "a whole minute is HH:MM:00.000Z")
            bytes.copyBytes(from: digits)
        }
        return text
    }

    /// Writes the date part of `days` into ``datePart``.
    private mutating func rememberDay(_ days: Int64) {
        let (year, month, dayOfMonth) = LocalDate(daysSinceEpoch: Int(days)).components
        var part: (UInt64, UInt64) = (0, 0)
        let length = withUnsafeMutableBytes(of: &part) { bytes in
            var index = 0
            func digits(_ value: Int, _ width: Int) {
                var rest = value
                for position in stride(from: index + width - 1, through: index, by: -1) {
                    bytes[position] = UInt8(truncatingIfNeeded: 48 + rest % 10)
                    rest /= 10
                }
                index += width
            }
            func byte(_ ascii: Unicode.Scalar) {
                bytes[index] = UInt8(ascii: ascii)
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
            digits(dayOfMonth, 2)
            byte("T")
            return index
        }
        day = days
        datePart = part
        datePartLength = length
    }
}
