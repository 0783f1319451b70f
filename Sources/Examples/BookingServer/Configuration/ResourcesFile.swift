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

    /// Reads, decodes and validates the file at `path`.
    static func load(path: String) throws(Problem) -> [ConfiguredResource] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let reason = !exists ? "no such file" : isDirectory.boolValue ? "it is a directory" : "permission denied"
            throw Problem(resource: nil, field: nil, accepted: "cannot be read (\(reason))")
        }
        let file: ResourcesFile
        do {
            file = try JSONDecoder().decode(ResourcesFile.self, from: data)
        } catch let problem as Problem {
            throw problem
        } catch {
            let detail = Self.syntaxError(in: data) ?? Self.detail(of: error)
            throw Problem(resource: nil, field: nil, accepted: "is not valid JSON (\(detail))")
        }
        guard !DuplicateJSONKeys.found(in: Array(data)) else {
            throw Problem(
                resource: nil, field: nil, accepted: "names a field twice in one object (a date in overrides, say)")
        }
        return try file.validated()
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
