import Foundation

/// Finds a JSON object that names one key twice: parsers (Foundation's included) keep one of the
/// values silently, so which one counted would depend on the parser. The resources file refuses such
/// text (request bodies are read by ``JSONObjectMembers``, which refuses it too).
enum DuplicateJSONKeys {
    /// Whether an object anywhere in JSON text names one key twice (parsers keep one of them silently, so
    /// which value counted would depend on the parser). The text is what `JSONDecoder` accepted, which checks
    /// only the strings it decodes: a key of an object it skipped that is not valid JSON counts as a repeat.
    static func found(in bytes: [UInt8]) -> Bool {
        var objects: [(keys: Set<String>, expectingKey: Bool)?] = []  // nil for an array
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"): objects.append((keys: [], expectingKey: true))
            case UInt8(ascii: "["): objects.append(nil)
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = objects.popLast()
            case UInt8(ascii: ","):
                if objects.last??.keys != nil { objects[objects.count - 1]?.expectingKey = true }
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < bytes.count && bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                if objects.last??.expectingKey == true {
                    let quoted = bytes[start...min(index, bytes.count - 1)]
                    // A key without escapes or controls is its bytes; any other is read by a JSON parser (a
                    // key it cannot read counts as a repeat, refusing the body).
                    let key =
                        quoted.contains(where: { $0 == UInt8(ascii: "\\") || $0 < 0x20 })
                        ? (try? JSONSerialization.jsonObject(with: Data(quoted), options: [.fragmentsAllowed]))
                            as? String
                        : String(decoding: quoted.dropFirst().dropLast(), as: UTF8.self)
                    guard let key, objects[objects.count - 1]!.keys.insert(key).inserted else { return true }
                    objects[objects.count - 1]!.expectingKey = false
                }
            default: break
            }
            index += 1
        }
        return false
    }
}
