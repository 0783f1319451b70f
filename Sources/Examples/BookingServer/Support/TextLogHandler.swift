import Foundation
import Logging
import Synchronization

/// Writes the text lines of swift-log's `StreamLogHandler` to standard error, byte for byte the same
/// (`<local time> <level> <label>: <key=value, sorted> [<source>] <message>`), at a fraction of the cost, but for
/// one thing: a control character in a value or the message (a line break a caller sent) is written escaped (`\n`,
/// `\r`, `\t`, `\u{1B}`; the C1 controls, U+2028 and U+2029 too), so one event is always one line and no caller
/// can forge another.
///
/// `StreamLogHandler` formats its timestamp with `localtime`, which in glibc looks at `/etc/localtime`
/// (a `stat`) on every call when `TZ` is unset, and builds its line through several interpolated strings.
/// Here the timestamp is formatted once per second (after `tzset()`, so a changed `/etc/localtime` still
/// shows within a second) and each line is assembled in one string.
struct TextLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadataProvider: Logger.MetadataProvider?
    /// Receives each line, newline included: standard error unless a test says otherwise.
    private let write: @Sendable (String) -> Void

    /// The handler's own metadata, under the provider's and each event's.
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// A handler labelled `label` writing to standard error, with the logging system's metadata provider.
    init(label: String) {
        self.init(label: label, metadataProvider: LoggingSystem.metadataProvider, write: StandardError.write)
    }

    /// A handler writing each line to `write`.
    init(
        label: String, metadataProvider: Logger.MetadataProvider?, write: @escaping @Sendable (String) -> Void
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    func log(event: LogEvent) {
        var line = Self.timestamps.now()
        line.reserveCapacity(256)
        line += " "
        line += event.level.rawValue
        if !label.isEmpty { line += " " }
        line += label
        line += ":"
        appendMetadata(of: event, to: &line)
        line += " ["
        line += event.source
        line += "] "
        Self.append(event.message.description, to: &line)
        line += "\n"
        write(line)
    }

    /// Appends ` key=value` for each of the event's metadata over the provider's over the handler's, with the
    /// error's keys over all of them, sorted by key, as `StreamLogHandler` writes them.
    private func appendMetadata(of event: LogEvent, to line: inout String) {
        let provided = metadataProvider?.get() ?? [:]
        let explicit = event.metadata ?? [:]
        var pairs: [MetadataPair] = []
        pairs.reserveCapacity(metadata.count + provided.count + explicit.count + (event.error == nil ? 0 : 2))
        for (key, value) in metadata { pairs.append(MetadataPair(key: key, rank: 0, value: value)) }
        for (key, value) in provided { pairs.append(MetadataPair(key: key, rank: 1, value: value)) }
        for (key, value) in explicit { pairs.append(MetadataPair(key: key, rank: 2, value: value)) }
        if let error = event.error {
            pairs.append(MetadataPair(key: "error.message", rank: 3, value: "\(error)"))
            pairs.append(MetadataPair(key: "error.type", rank: 3, value: "\(String(reflecting: type(of: error)))"))
        }
        pairs.sort { $0.key != $1.key ? $0.key < $1.key : $0.rank < $1.rank }
        for index in pairs.indices where index == pairs.count - 1 || pairs[index + 1].key != pairs[index].key {
            line += " "
            line += pairs[index].key
            line += "="
            Self.append(pairs[index].value.description, to: &line)
        }
    }

    /// Appends `text` to `line`, each control character (U+0000-U+001F, U+007F-U+009F) and line or paragraph
    /// separator (U+2028, U+2029) escaped.
    static func append(_ text: String, to line: inout String) {
        // Text without a byte below 0x20, 0x7F, 0xC2 (the lead byte of U+0080-U+00BF) or 0xE2 (of U+2000-U+2FFF) has
        // none of them: it is written as it is.
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 }) else {
            line += text
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case "\u{0}"..."\u{1F}", "\u{7F}"..."\u{9F}", "\u{2028}", "\u{2029}":
                line += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: line.unicodeScalars.append(scalar)
            }
        }
    }

    /// One metadata value and where it came from.
    private struct MetadataPair {
        /// The metadata key.
        let key: String
        /// Orders one key's values from weakest to strongest (handler, provider, event, error): the last of a run of
        /// equal keys wins.
        let rank: Int
        /// The value this source gives the key.
        let value: Logger.MetadataValue
    }

    /// The local time as `StreamLogHandler` writes it, formatted again only when the second changes.
    private static let timestamps = LocalTimestamps()
}

/// `%Y-%m-%dT%H:%M:%S%z` in local time, cached for the current second.
private final class LocalTimestamps: Sendable {
    private let cached = Mutex<(second: time_t, text: String)?>(nil)

    func now() -> String {
        let second = time(nil)
        if let text = cached.withLock({ $0?.second == second ? $0?.text : nil }) { return text }
        let text = Self.format(second)
        // The last second formatted wins, even an earlier one: after the clock steps back, lines are cached again
        // at once (a paused writer putting back an older second costs one more format, nothing else).
        cached.withLock { $0 = (second, text) }
        return text
    }

    /// `second` as `StreamLogHandler` writes it, in the zone of `TZ` or else of `/etc/localtime`, read again.
    static func format(_ second: time_t) -> String {
        tzset()
        var second = second
        var parts = tm()
        guard localtime_r(&second, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
