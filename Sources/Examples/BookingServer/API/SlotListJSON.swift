import BookingDomain
import HTTPTypes
import Hummingbird

/// The availability answer, `[{"end":"...","seats_left":N,"start":"..."},...]`, written straight into one buffer.
///
/// The same bytes `JSONEncoder` with `.sortedKeys` writes for `{start, end, seats_left}` objects, without its
/// per-value boxing: a 7-day answer of 5-minute slots is about 2,000 objects.
enum SlotListJSON {
    /// The bytes of one slot object: `{"end":"` + 24 + `","seats_left":` + 1 + `,"start":"` + 24 + `"}`, more
    /// for more seats or for years past 9999.
    private static let bytesPerSlot = 86
    private static let endKey = Array(#"{"end":""#.utf8)
    private static let seatsKey = Array(#"","seats_left":"#.utf8)
    private static let startKey = Array(#","start":""#.utf8)
    private static let objectEnd = Array(#""}"#.utf8)

    /// A `200` response with the slots as a JSON array.
    static func response(_ slots: [AvailableSlot]) -> Response {
        Response(
            status: .ok, headers: JSONResponse.headers([:]), body: .init(byteBuffer: ByteBuffer(bytes: bytes(slots))))
    }

    /// The UTF-8 JSON text of the slots.
    static func bytes(_ slots: [AvailableSlot]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 + slots.count * (bytesPerSlot + 1))
        bytes.append(UInt8(ascii: "["))
        for (index, available) in slots.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: endKey)
            available.slot.end.appendISO8601WithMilliseconds(to: &bytes)
            bytes.append(contentsOf: seatsKey)
            appendDecimal(available.seatsLeft, to: &bytes)
            bytes.append(contentsOf: startKey)
            available.slot.start.appendISO8601WithMilliseconds(to: &bytes)
            bytes.append(contentsOf: objectEnd)
        }
        bytes.append(UInt8(ascii: "]"))
        return bytes
    }

    /// Appends `value` in decimal, without a `String` per slot.
    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var rest = value.magnitude
        var divisor: UInt = 1
        while rest / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
