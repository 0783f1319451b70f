import BookingDomain
import Foundation

/// The resources file of `--config FILE` (`BOOKING_CONFIG`): JSON read with Foundation's `JSONDecoder` into
/// ``ResourceEntry`` values, then validated into ``ConfiguredResource``s, in the file's order.
///
/// ```json
/// {"resources": [{"id": "dr-lee", "name": "Dr. Lee", "timeZone": "Europe/London",
///                 "hours": "mon-fri=09:00-12:00,13:00-17:00", "overrides": {"2027-12-25": "closed"}}]}
/// ```
///
/// The first problem found stops loading, as one ``Problem`` naming the resource, the field and what is
/// accepted. Unknown fields are refused, so a misspelt setting never silently takes its default.
struct ResourcesFile: Decodable {
    /// What is wrong with a resources file, on one line: `resource "dr-lee": field "timeZone": must be ...`.
    struct Problem: Error, CustomStringConvertible {
        /// `resource "dr-lee"`, or `resource #2` when the entry has no valid id; `nil` for the whole file.
        let resource: String?
        /// The field, as written in the file.
        let field: String?
        let accepted: String

        var description: String {
            // A field name comes from the file as written, and may hold a line break: escape it, one line always.
            [resource, field.map { "field \($0.debugDescription)" }, accepted].compactMap { $0 }.joined(separator: ": ")
        }
    }

    /// Any key of a JSON object, to find the ones the file may not have.
    struct AnyKey: CodingKey {
        let stringValue: String
        let intValue: Int? = nil
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    let entries: [ResourceEntry]

    /// The most bytes a resources file may hold: thousands of resources, while a device that never ends
    /// (`/dev/zero`) stops the start at once instead of filling the memory.
    static let maximumBytes = 8 << 20

    /// Reads, decodes and validates the file at `path`: a regular file, or a pipe (`/dev/stdin`, a shell's
    /// `<(...)`), read to its end; at most ``maximumBytes``.
    static func load(path: String) throws(Problem) -> [ConfiguredResource] {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard exists, !isDirectory.boolValue, let handle = FileHandle(forReadingAtPath: path) else {
            let reason = !exists ? "no such file" : isDirectory.boolValue ? "it is a directory" : "permission denied"
            throw Problem(resource: nil, field: nil, accepted: "cannot be read (\(reason))")
        }
        defer { try? handle.close() }
        var read = Data()
        do {
            while read.count <= Self.maximumBytes,
                let chunk = try handle.read(upToCount: Self.maximumBytes + 1 - read.count), !chunk.isEmpty
            {
                read.append(chunk)
            }
        } catch {
            throw Problem(resource: nil, field: nil, accepted: "cannot be read (\(Self.detail(of: error)))")
        }
        guard read.count <= Self.maximumBytes else {
            throw Problem(resource: nil, field: nil, accepted: "is larger than \(Self.maximumBytes >> 20) MiB")
        }
        let data = Self.utf8(read)
        if let detail = Self.syntaxError(in: data) {
            throw Problem(resource: nil, field: nil, accepted: "is not valid JSON (\(detail))")
        }
        // Foundation on Linux reads a trailing comma; RFC 8259 does not.
        do {
            _ = try JSONObjectMembers.read(Array(data))
        } catch .notJSON {
            throw Problem(
                resource: nil, field: nil,
                accepted: "is not valid JSON by RFC 8259 (a comma before a closing bracket or brace, say)")
        } catch {
            // Not an object, or a key named twice: said below, with where.
        }
        let file: ResourcesFile
        do {
            file = try JSONDecoder().decode(ResourcesFile.self, from: data)
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(resource: nil, field: nil, accepted: "is not valid JSON (\(Self.detail(of: error)))")
        }
        if let repeated = DuplicateJSONKeys.first(in: Array(data)) { throw file.problem(repeating: repeated) }
        return try file.validated()
    }

    /// The file's text as UTF-8, as JSON readers take it: a UTF-8 byte-order mark (Windows editors write one) dropped,
    /// UTF-16 and UTF-32 transcoded; anything else as it is, for the checks to refuse.
    private static func utf8(_ data: Data) -> Data {
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { return Data(data.dropFirst(3)) }
        if String(data: data, encoding: .utf8) != nil { return data }
        for encoding in [String.Encoding.utf16, .utf32] {
            if let text = String(data: data, encoding: encoding) { return Data(text.utf8) }
        }
        return data
    }

    /// A key named twice, as a problem of the resource it is in (by the entry's label) and the field it is in or is.
    private func problem(repeating repeated: DuplicateJSONKeys.Repeat) -> Problem {
        let accepted = "names \(repeated.key.debugDescription) twice in one object; keep one"
        guard repeated.path.count >= 2, repeated.path[0] == .key("resources"),
            case .index(let position) = repeated.path[1], entries.indices.contains(position)
        else {
            let field = repeated.path.isEmpty ? repeated.key : DuplicateJSONKeys.Step.path(repeated.path)
            return Problem(resource: nil, field: field, accepted: repeated.path.isEmpty ? "is given twice" : accepted)
        }
        let inside = repeated.path.dropFirst(2)
        guard !inside.isEmpty else {
            return Problem(resource: entries[position].label, field: repeated.key, accepted: "is given twice; keep one")
        }
        return Problem(
            resource: entries[position].label, field: DuplicateJSONKeys.Step.path(inside), accepted: accepted)
    }

    init(from decoder: any Decoder) throws {
        let container: KeyedDecodingContainer<AnyKey>
        do {
            container = try decoder.container(keyedBy: AnyKey.self)
        } catch {
            throw Problem(resource: nil, field: nil, accepted: "must be a JSON object like {\"resources\": [...]}")
        }
        try ResourceEntry.refuseUnknownKeys(in: container, accepted: ["resources"], resource: nil)
        do {
            entries =
                try container.decodeIfPresent([ResourceEntry].self, forKey: AnyKey(stringValue: "resources")) ?? []
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(resource: nil, field: "resources", accepted: "must be a list of resources")
        }
    }

    /// The validated resources, in the file's order; at least one, ids unique.
    func validated() throws(Problem) -> [ConfiguredResource] {
        guard !entries.isEmpty else {
            throw Problem(
                resource: nil, field: "resources",
                accepted:
                    "must list at least one resource, like [{\"id\": \"dr-lee\", \"timeZone\": \"Europe/London\"}]")
        }
        var positions: [ResourceID: Int] = [:]
        var resources: [ConfiguredResource] = []
        for entry in entries {
            let resource = try entry.validated()
            if let first = positions[resource.id] {
                throw Problem(
                    resource: entry.label, field: "id",
                    accepted: "is used by resources #\(first) and #\(entry.position); each id must be unique")
            }
            positions[resource.id] = entry.position
            resources.append(resource)
        }
        return resources
    }

    /// Where the JSON breaks, in `JSONSerialization`'s words (`Invalid value around character 8.`), which
    /// `JSONDecoder` does not say; `nil` when `JSONSerialization` reads it.
    private static func syntaxError(in data: Data) -> String? {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return nil
        } catch {
            return ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String).map(oneLine)
        }
    }

    /// The decoder's own sentence for what it could not read, on one line.
    private static func detail(of error: any Error) -> String {
        guard case DecodingError.dataCorrupted(let context) = error else { return oneLine("\(error)") }
        return oneLine(context.debugDescription)
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
