import BookingDomain
import Foundation
import Logging

/// Writes one JSON object per log line to standard error: `{"ts","level","label","msg",...metadata}`.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields[key] = "\(value)"
        }
        StandardError.write(Self.line(level: event.level, label: label, message: "\(event.message)", fields: fields))
    }

    /// One log line, newline included: `fields` with `ts`, `level`, `label` and `msg` over them, keys sorted.
    static func line(level: Logger.Level, label: String, message: String, fields: [String: String] = [:]) -> Data {
        var object = fields
        object["ts"] = Date().iso8601WithMilliseconds
        object["level"] = level.rawValue
        object["label"] = label
        object["msg"] = message
        // Strings only: serialization cannot fail, and the line stays one object either way.
        var line = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        line.append(0x0A)
        return line
    }
}
