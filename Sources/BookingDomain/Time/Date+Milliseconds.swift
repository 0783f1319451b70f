public import Foundation

extension Date {
    /// Whole milliseconds since 1970-01-01T00:00:00Z, rounded to the nearest: the precision every store keeps.
    ///
    /// Total: an instant beyond `Int64`'s range of milliseconds counts as its nearest end, and a `Date` that is no
    /// instant (NaN seconds) as 0. No store keeps such instants (``TimeSlot/supportedInstants``), and every booking
    /// operation refuses them before it writes.
    public var millisecondsSince1970: Int64 {
        let milliseconds = (timeIntervalSince1970 * 1000).rounded()
        guard !milliseconds.isNaN else { return 0 }
        // Double(Int64.max) is 2^63, one past Int64.max: every double below it converts.
        guard milliseconds < Double(Int64.max) else { return .max }
        guard milliseconds > Double(Int64.min) else { return .min }
        return Int64(milliseconds)
    }

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
        bytes.reserveCapacity(ISO8601MillisecondsWriter.maximumLength)
        appendISO8601WithMilliseconds(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``iso8601WithMilliseconds`` as UTF-8 to `bytes`, without making a `String`. Writers of long
    /// answers write straight into their buffer with ``ISO8601MillisecondsWriter`` instead.
    public func appendISO8601WithMilliseconds(to bytes: inout [UInt8]) {
        var writer = ISO8601MillisecondsWriter()
        withUnsafeTemporaryAllocation(byteCount: ISO8601MillisecondsWriter.maximumLength, alignment: 1) { buffer in
            let count = writer.write(self, into: buffer)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }
}
