import NIOCore

/// Writes one flat JSON object straight into a `ByteBuffer`: the bytes `JSONEncoder` with `.sortedKeys` and
/// `.withoutEscapingSlashes` writes, without its per-value boxing, for answers on the booking path.
///
/// The caller names the members in sorted order (a test compares each writer's output with `JSONEncoder`'s).
/// Strings are escaped as `JSONEncoder` escapes them: `"` and `\` with a backslash; backspace, tab, line
/// feed, form feed and carriage return by their short escapes; every other C0 control as `\u00xx`; all else,
/// `/` and U+2028 included, as is.
struct JSONObjectWriter {
    private var buffer: ByteBuffer
    private var isEmpty = true

    /// Starts an object in a buffer of `capacity` bytes (it grows if needed).
    init(capacity: Int = 512) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
        buffer.writeInteger(UInt8(ascii: "{"))
    }

    /// Writes a string member; `nil` writes `null`.
    mutating func member(_ key: StaticString, _ value: String?) {
        writeKey(key)
        guard let value else {
            buffer.writeStaticString("null")
            return
        }
        Self.writeString(value, into: &buffer)
    }

    /// Writes an integer member.
    mutating func member(_ key: StaticString, _ value: some FixedWidthInteger) {
        writeKey(key)
        buffer.writeString(String(value))
    }

    /// Ends the object and returns its text.
    consuming func finish() -> ByteBuffer {
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer
    }

    private mutating func writeKey(_ key: StaticString) {
        if !isEmpty { buffer.writeInteger(UInt8(ascii: ",")) }
        isEmpty = false
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(key)
        buffer.writeStaticString("\":")
    }

    /// Writes `text` as a JSON string, quotes included.
    private static func writeString(_ text: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        if text.utf8.allSatisfy({ !needsEscape($0) }) {
            buffer.writeString(text)
        } else {
            for byte in text.utf8 {
                guard needsEscape(byte) else {
                    buffer.writeInteger(byte)
                    continue
                }
                buffer.writeInteger(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): buffer.writeInteger(byte)
                case 0x08: buffer.writeInteger(UInt8(ascii: "b"))
                case 0x09: buffer.writeInteger(UInt8(ascii: "t"))
                case 0x0A: buffer.writeInteger(UInt8(ascii: "n"))
                case 0x0C: buffer.writeInteger(UInt8(ascii: "f"))
                case 0x0D: buffer.writeInteger(UInt8(ascii: "r"))
                default:
                    let digits: StaticString = "0123456789abcdef"
                    buffer.writeStaticString("u00")
                    buffer.writeInteger(digits.utf8Start[Int(byte >> 4)])
                    buffer.writeInteger(digits.utf8Start[Int(byte & 0x0F)])
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }
}
