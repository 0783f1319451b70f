import Foundation

/// Finds a JSON object that names one key twice: parsers (Foundation's included) keep one of the
/// values silently, so which one counted would depend on the parser. The resources file refuses such
/// text, read once at start-up (request bodies are read by ``JSONObjectMembers``, which refuses it too).
enum DuplicateJSONKeys {
    /// One step from a JSON document's top to a value inside it.
    enum Step: Equatable {
        /// The value of a key of an object.
        case key(String)
        /// The element at a position of an array, from 0.
        case index(Int)

        /// Steps as a path: keys joined by dots, positions in brackets (`overrides`, `x[1].k`).
        static func path(_ steps: some Sequence<Step>) -> String {
            steps.reduce(into: "") { text, step in
                switch step {
                case .key(let key): text += (text.isEmpty ? "" : ".") + key
                case .index(let index): text += "[\(index)]"
                }
            }
        }
    }

    /// A key named twice in one object, and the steps from the top to that object.
    struct Repeat: Equatable {
        let path: [Step]
        let key: String
    }

    /// The first key that an object of valid JSON text names twice, with where that object is; `nil` when none.
    static func first(in bytes: [UInt8]) -> Repeat? {
        // Each open object's keys, whether a key comes next and the last key read; each open array's position.
        var containers: [Container] = []
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"): containers.append(.object(keys: [], expectingKey: true, last: nil))
            case UInt8(ascii: "["): containers.append(.array(position: 0))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = containers.popLast()
            case UInt8(ascii: ","):
                switch containers.last {
                case .object(let keys, _, let last):
                    containers[containers.count - 1] = .object(keys: keys, expectingKey: true, last: last)
                case .array(let position): containers[containers.count - 1] = .array(position: position + 1)
                case nil: break
                }
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < bytes.count && bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                if case .object(let keys, true, _) = containers.last {
                    let text = Data(bytes[start...min(index, bytes.count - 1)])
                    let key = (try? JSONSerialization.jsonObject(with: text, options: [.fragmentsAllowed])) as? String
                    guard let key else { return nil }
                    guard !keys.contains(key) else {
                        return Repeat(path: containers.dropLast().compactMap(\.step), key: key)
                    }
                    containers[containers.count - 1] = .object(keys: keys.union([key]), expectingKey: false, last: key)
                }
            default: break
            }
            index += 1
        }
        return nil
    }

    /// An object or an array the scan is inside.
    private enum Container {
        case object(keys: Set<String>, expectingKey: Bool, last: String?)
        case array(position: Int)

        /// The step into the value being read: the last key's, or the current position's.
        var step: Step? {
            switch self {
            case .object(_, _, let last): last.map(Step.key)
            case .array(let position): .index(position)
            }
        }
    }
}
