import BookingDomain
import HTTPTypes
import Hummingbird

/// The availability answer, `[{"end":"...","start":"..."},...]`, written straight into one buffer.
///
/// The same bytes `JSONEncoder` with `.sortedKeys` writes for `{start, end}` objects, without its
/// per-value boxing: a 7-day answer of 5-minute slots is about 2,000 objects.
enum SlotListJSON {
    /// The bytes of one slot object: `{"end":"` + 24 + `","start":"` + 24 + `"}`, more only for years past 9999.
    private static let bytesPerSlot = 70
    private static let endKey = Array(#"{"end":""#.utf8)
    private static let startKey = Array(#"","start":""#.utf8)
    private static let objectEnd = Array(#""}"#.utf8)

    /// A `200` response with the slots as a JSON array.
    static func response(_ slots: [TimeSlot]) -> Response {
        Response(
            status: .ok, headers: JSONResponse.headers([:]), body: .init(byteBuffer: ByteBuffer(bytes: bytes(slots))))
    }

    /// The UTF-8 JSON text of the slots.
    static func bytes(_ slots: [TimeSlot]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 + slots.count * (bytesPerSlot + 1))
        bytes.append(UInt8(ascii: "["))
        for (index, slot) in slots.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: endKey)
            slot.end.appendISO8601WithMilliseconds(to: &bytes)
            bytes.append(contentsOf: startKey)
            slot.start.appendISO8601WithMilliseconds(to: &bytes)
            bytes.append(contentsOf: objectEnd)
        }
        bytes.append(UInt8(ascii: "]"))
        return bytes
    }
}
