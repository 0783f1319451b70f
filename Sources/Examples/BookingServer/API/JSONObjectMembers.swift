/// The members of a request body's JSON object, read from UTF-8 text by the grammar of RFC 8259 in one pass.
///
/// The request bodies are flat objects of strings, so a member's value is kept only as what the fields need:
/// its string, `null`, or some other JSON value. The whole text is still checked: every nested value, every
/// escape (a lone UTF-16 surrogate included), and every object's keys, which may not repeat (parsers keep one
/// of two values silently, so which one counted would depend on the parser).
enum JSONObjectMembers {
    /// A member's value, as far as request bodies read it.
    enum Value: Equatable {
        case string(String)
        case null
        /// A number, `true`, `false`, an array or an object.
        case other
    }

    /// Why a text is refused, in the order it is decided: the grammar first, then the outer value, then the keys.
    enum Failure: Error, Equatable {
        /// The text is not JSON: a grammar error, a bad escape, or nesting deeper than ``maximumDepth``.
        case notJSON
        /// The text is JSON, but not an object.
        case notAnObject
        /// An object in the text names one key twice.
        case repeatedKey
    }

    /// The deepest nesting of arrays and objects read. A body's fields are flat, so deeper text is refused
    /// as not JSON, and the recursion stays far from the stack's end.
    static let maximumDepth = 64

    /// The members of the object `bytes` holds. The bytes must be valid UTF-8 (``JSONBody`` checks that
    /// first); the reader does not check it again.
    static func read(_ bytes: [UInt8]) throws(Failure) -> [String: Value] {
        var reader = Reader(bytes: bytes)
        guard let (members, isObject) = reader.document() else { throw .notJSON }
        guard isObject else { throw .notAnObject }
        guard !reader.foundRepeatedKey else { throw .repeatedKey }
        return members
    }

    /// One pass over the text; every method returns `nil` where the text breaks the grammar.
    private struct Reader {
        let bytes: [UInt8]
        var index = 0
        /// How many arrays and objects enclose the reader.
        var depth = 0
        var foundRepeatedKey = false

        init(bytes: [UInt8]) { self.bytes = bytes }

        /// The whole text: one value between optional whitespace. For an object, its members.
        mutating func document() -> (members: [String: Value], isObject: Bool)? {
            skipWhitespace()
            var members: [String: Value] = [:]
            let isObject = peek == UInt8(ascii: "{")
            if isObject {
                guard object(into: &members) else { return nil }
            } else {
                guard value() != nil else { return nil }
            }
            skipWhitespace()
            return index == bytes.count ? (members, isObject) : nil
        }

        private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        private mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        private mutating func consume(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        /// Any value; a string's text is kept.
        private mutating func value() -> Value? {
            switch peek {
            case UInt8(ascii: "\""): return string().map(Value.string)
            case UInt8(ascii: "{"):
                var ignored: [String: Value] = [:]
                return object(into: &ignored) ? .other : nil
            case UInt8(ascii: "["): return array() ? .other : nil
            case UInt8(ascii: "t"): return literal("true") ? .other : nil
            case UInt8(ascii: "f"): return literal("false") ? .other : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default: return number() ? .other : nil
            }
        }

        private mutating func object(into members: inout [String: Value]) -> Bool {
            guard depth < JSONObjectMembers.maximumDepth, consume(UInt8(ascii: "{")) else { return false }
            depth += 1
            defer { depth -= 1 }
            skipWhitespace()
            if consume(UInt8(ascii: "}")) { return true }
            repeat {
                skipWhitespace()
                guard let key = string() else { return false }
                skipWhitespace()
                guard consume(UInt8(ascii: ":")) else { return false }
                skipWhitespace()
                guard let value = value() else { return false }
                if members.updateValue(value, forKey: key) != nil { foundRepeatedKey = true }
                skipWhitespace()
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}"))
        }

        private mutating func array() -> Bool {
            guard depth < JSONObjectMembers.maximumDepth, consume(UInt8(ascii: "[")) else { return false }
            depth += 1
            defer { depth -= 1 }
            skipWhitespace()
            if consume(UInt8(ascii: "]")) { return true }
            repeat {
                skipWhitespace()
                guard value() != nil else { return false }
                skipWhitespace()
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "]"))
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let length = word.utf8CodeUnitCount
            guard index + length <= bytes.count else { return false }
            for offset in 0..<length where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += length
            return true
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        private mutating func number() -> Bool {
            _ = consume(UInt8(ascii: "-"))
            if consume(UInt8(ascii: "0")) {
                // A leading zero stands alone.
            } else {
                guard let first = peek, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(first) else { return false }
                skipDigits()
            }
            if consume(UInt8(ascii: ".")) {
                guard skipDigits() > 0 else { return false }
            }
            if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                guard skipDigits() > 0 else { return false }
            }
            return true
        }

        @discardableResult
        private mutating func skipDigits() -> Int {
            let start = index
            while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
            return index - start
        }

        /// A string's text, its escapes decoded; `nil` for a control character, a bad escape or a lone
        /// surrogate. The text is valid UTF-8 already (``JSONBody`` checks it first).
        private mutating func string() -> String? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            let start = index
            // Most strings have no escape: their bytes are their text.
            while let byte = peek, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
                guard byte >= 0x20 else { return nil }
                index += 1
            }
            if consume(UInt8(ascii: "\"")) { return String(decoding: bytes[start..<(index - 1)], as: UTF8.self) }
            var text = Array(bytes[start..<index])
            while let byte = peek {
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: text, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let escaped = escape() else { return nil }
                    text.append(contentsOf: escaped)
                default:
                    guard byte >= 0x20 else { return nil }
                    text.append(byte)
                }
            }
            return nil
        }

        /// The UTF-8 of the escape after a backslash.
        private mutating func escape() -> [UInt8]? {
            guard let byte = peek else { return nil }
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return [byte]
            case UInt8(ascii: "b"): return [0x08]
            case UInt8(ascii: "f"): return [0x0C]
            case UInt8(ascii: "n"): return [0x0A]
            case UInt8(ascii: "r"): return [0x0D]
            case UInt8(ascii: "t"): return [0x09]
            case UInt8(ascii: "u"):
                guard let unit = hexUnit() else { return nil }
                var scalarValue = UInt32(unit)
                if (0xD800...0xDBFF).contains(unit) {
                    // A high surrogate must be followed by an escaped low one.
                    guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let low = hexUnit(),
                        (0xDC00...0xDFFF).contains(low)
                    else { return nil }
                    scalarValue = 0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(unit) {
                    return nil
                }
                guard let scalar = Unicode.Scalar(scalarValue) else { return nil }
                return Array(String(scalar).utf8)
            default: return nil
            }
        }

        /// Four hexadecimal digits.
        private mutating func hexUnit() -> UInt16? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }
    }
}
