import BookingDomain
import Foundation
import NIOCore
import PostgresNIO

/// An instant bound to and read from `TIMESTAMPTZ` as whole milliseconds, exactly.
///
/// PostgresNIO's own `Date` coding goes through floating-point microseconds and can land one
/// microsecond off; this type writes `milliseconds * 1000` microseconds and reads them back rounded,
/// so every instant round-trips exactly at millisecond precision.
struct PostgresInstant: PostgresNonThrowingEncodable, PostgresDecodable, Sendable {
    /// Milliseconds between 1970-01-01 and 2000-01-01, PostgreSQL's epoch.
    private static let postgresEpochOffset: Int64 = 946_684_800_000

    let millisecondsSince1970: Int64

    init(_ date: Date) { millisecondsSince1970 = date.millisecondsSince1970 }

    init(millisecondsSince1970: Int64) { self.millisecondsSince1970 = millisecondsSince1970 }

    var date: Date { Date(millisecondsSince1970: millisecondsSince1970) }

    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeInteger(microsecondsSincePostgresEpoch)
    }

    /// The value's binary form: microseconds since 2000-01-01. An instant outside `TIMESTAMPTZ`'s range (4714 BC to
    /// 294276 AD) is written as `Int64`'s ends, which PostgreSQL reads as `-infinity` and `infinity`, never as a value
    /// it would refuse (the service refuses such instants before they get here).
    var microsecondsSincePostgresEpoch: Int64 {
        let (sinceEpoch, before) = millisecondsSince1970.subtractingReportingOverflow(Self.postgresEpochOffset)
        let (microseconds, overflow) = sinceEpoch.multipliedReportingOverflow(by: 1000)
        guard !before, !overflow else { return millisecondsSince1970 < 0 ? .min : .max }
        if microseconds < Self.earliestMicroseconds { return .min }
        if microseconds >= Self.endMicroseconds { return .max }
        return microseconds
    }

    /// PostgreSQL's `MIN_TIMESTAMP` (4714-11-24 BC) and `END_TIMESTAMP` (294277-01-01), in microseconds since 2000.
    private static let earliestMicroseconds: Int64 = -211_813_488_000_000_000
    private static let endMicroseconds: Int64 = 9_223_371_331_200_000_000

    init<JSONDecoder: PostgresJSONDecoder>(
        from buffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat,
        context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        guard type == .timestamptz || type == .timestamp, format == .binary, buffer.readableBytes == 8,
            let microseconds = buffer.readInteger(as: Int64.self)
        else { throw PostgresDecodingError.Code.typeMismatch }
        let milliseconds = (Double(microseconds) / 1000).rounded()
        millisecondsSince1970 = Int64(milliseconds) + Self.postgresEpochOffset
    }
}

extension PostgresInstant: PostgresArrayEncodable {
    /// Lists of instants bind as `TIMESTAMPTZ[]` (the due times of a booking's reminders).
    static var psqlArrayType: PostgresDataType { .timestamptzArray }
}
