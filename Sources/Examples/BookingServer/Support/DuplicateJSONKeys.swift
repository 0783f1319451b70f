import Foundation

/// Finds a JSON object that names one key twice: parsers (Foundation's included) keep one of the
/// values silently, so which one counted would depend on the parser. The resources file refuses such
/// text, read once at start-up (request bodies are read by ``JSONObjectMembers``, which refuses it too).
enum DuplicateJSONKeys {
    /// Whether an object anywhere in valid JSON text names one key twice (parsers keep one of them
    /// silently, so which value counted would depend on the parser).
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
                if let object = objects.last ?? nil, object.expectingKey {
                    let text = Data(bytes[start...min(index, bytes.count - 1)])
                    let key = (try? JSONSerialization.jsonObject(with: text, options: [.fragmentsAllowed])) as? String
                    guard let key, !object.keys.contains(key) else { return true }
                    objects[objects.count - 1] = (keys: object.keys.union([key]), expectingKey: false)
                }
            default: break
            }
            index += 1
        }
        return false
    }
}
