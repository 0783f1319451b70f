import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird

/// The availability answer, `[{"end":"...","seats_left":N,"start":"..."},...]`, written straight into the
/// response's buffer.
///
/// The same bytes `JSONEncoder` with `.sortedKeys` writes for `{start, end, seats_left}` objects, without its
/// per-value boxing: a 7-day answer of 5-minute slots is about 2,000 objects. The buffer is sized once for
/// the longest text every slot can take, then filled in one pass, the instants by one
/// ``ISO8601MillisecondsWriter`` (the slots of one day share its date part); a slot that starts where the one
/// before it ended copies that text.
enum SlotListJSON {
    private static let endKey: StaticString = #"{"end":""#
    /// The end of one object and the start of the next: one copy between slots.
    private static let nextEndKey: StaticString = #""},{"end":""#
    private static let seatsKey: StaticString = #"","seats_left":"#
    private static let startKey: StaticString = #","start":""#
    private static let objectEnd: StaticString = #""}"#
    /// The most bytes a count of seats takes: `-9223372036854775808`.
    private static let maximumDecimalLength = 20
    /// What ``Text/appendCopy(of:)`` loads and stores at once: 32 bytes, more than the longest instant.
    private typealias InstantCopy = (UInt64, UInt64, UInt64, UInt64)
    /// How many bytes a copied instant stores at once.
    private static let instantCopyWidth = MemoryLayout<InstantCopy>.size
    /// The most bytes one slot takes, with what comes between it and the one before, and the room a copied
    /// instant's wider store needs.
    private static let maximumBytesPerSlot =
        nextEndKey.utf8CodeUnitCount + seatsKey.utf8CodeUnitCount + startKey.utf8CodeUnitCount
        + objectEnd.utf8CodeUnitCount + 2 * ISO8601MillisecondsWriter.maximumLength + maximumDecimalLength
        + (instantCopyWidth - ISO8601MillisecondsWriter.maximumLength)

    /// A `200` response with the slots as a JSON array.
    static func response(_ slots: [AvailableSlot]) -> Response {
        Response(status: .ok, headers: JSONResponse.headers([:]), body: .init(byteBuffer: buffer(slots)))
    }

    /// The UTF-8 JSON text of the slots.
    static func buffer(_ slots: [AvailableSlot], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        let capacity = 2 + slots.count * maximumBytesPerSlot
        var buffer = allocator.buffer(capacity: capacity)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { memory in
            var text = Text(memory: memory)
            text.append(UInt8(ascii: "["))
            // The previous slot's end and where its text is: slots that follow each other start where the one
            // before ended, so that text is copied rather than written again.
            var previousEnd: (instant: Date, text: Range<Int>)?
            for (index, available) in slots.enumerated() {
                // Every write below is unchecked: the room for the longest slot is checked once.
                precondition(memory.count - text.count >= maximumBytesPerSlot + 1, "the buffer was sized too small")
                text.append(index > 0 ? nextEndKey : endKey)
                let endStart = text.count
                text.append(available.slot.end)
                let endText = endStart..<text.count
                text.append(seatsKey)
                text.appendDecimal(available.seatsLeft)
                text.append(startKey)
                if let previousEnd, previousEnd.instant == available.slot.start {
                    text.appendCopy(of: previousEnd.text)
                } else {
                    text.append(available.slot.start)
                }
                previousEnd = (available.slot.end, endText)
            }
            if !slots.isEmpty { text.append(objectEnd) }
            text.append(UInt8(ascii: "]"))
            return text.count
        }
        return buffer
    }

    /// The text written so far into memory sized for it.
    struct Text {
        let memory: UnsafeMutableRawBufferPointer
        private(set) var count = 0
        private var instants = ISO8601MillisecondsWriter()

        init(memory: UnsafeMutableRawBufferPointer) { self.memory = memory }

        mutating func append(_ byte: UInt8) {
            memory[count] = byte
            count += 1
        }

        mutating func append(_ text: StaticString) {
            let length = text.utf8CodeUnitCount
            (memory.baseAddress! + count).copyMemory(from: text.utf8Start, byteCount: length)
            count += length
        }

        mutating func append(_ instant: Date) {
            count += instants.write(instant, into: UnsafeMutableRawBufferPointer(rebasing: memory[count...]))
        }

        /// Appends a copy of an instant written earlier (at most ``ISO8601MillisecondsWriter/maximumLength``
        /// bytes), in four 8-byte loads and stores rather than a copy of its length: what follows overwrites the
        /// bytes past it, and the room checked for a slot includes them (``instantCopyWidth``).
        mutating func appendCopy(of written: Range<Int>) {
            let bytes = memory.baseAddress!.loadUnaligned(
                fromByteOffset: written.lowerBound, as: InstantCopy.self)
            memory.baseAddress!.storeBytes(of: bytes, toByteOffset: count, as: InstantCopy.self)
            count += written.count
        }

        /// Appends `value` in decimal.
        mutating func appendDecimal(_ value: Int) {
            if value < 0 { append(UInt8(ascii: "-")) }
            var rest = value.magnitude
            var divisor: UInt = 1
            while rest / divisor >= 10 { divisor *= 10 }
            while divisor > 0 {
                append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
    }
}
