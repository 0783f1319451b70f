import Foundation
import Logging
import Synchronization

/// Writes the text lines of swift-log's `StreamLogHandler` to standard error, byte for byte the same
/// (`<local time> <level> <label>: <key=value, sorted> [<source>] <message>`), at a fraction of the cost.
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
    /// The handler's own metadata, rendered once whenever it changes.
    private var renderedMetadata = ""

    var metadata: Logger.Metadata = [:] {
        didSet { renderedMetadata = Self.render(metadata) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// A handler labelled `label` writing to standard error, with the logging system's metadata provider.
    init(label: String) {
        self.init(label: label, metadataProvider: LoggingSystem.metadataProvider, write: Self.writeToStandardError)
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
        let provided = metadataProvider?.get() ?? [:]
        let explicit = event.metadata ?? [:]
        let rendered: String
        if provided.isEmpty && explicit.isEmpty && event.error == nil {
            rendered = renderedMetadata
        } else {
            var merged = metadata
            merged.merge(provided) { $1 }
            merged.merge(explicit) { $1 }
            if let error = event.error {
                merged["error.message"] = "\(error)"
                merged["error.type"] = "\(String(reflecting: type(of: error)))"
            }
            rendered = Self.render(merged)
        }
        var line = Self.timestamps.now()
        let message = event.message.description
        line.reserveCapacity(line.utf8.count + label.utf8.count + rendered.utf8.count + message.utf8.count + 32)
        line += " "
        line += event.level.rawValue
        if !label.isEmpty { line += " " }
        line += label
        line += ":"
        if !rendered.isEmpty {
            line += " "
            line += rendered
        }
        line += " ["
        line += event.source
        line += "] "
        line += message
        line += "\n"
        write(line)
    }

    /// `key=value` pairs sorted by key, separated by spaces, as `StreamLogHandler` writes them.
    private static func render(_ metadata: Logger.Metadata) -> String {
        var text = ""
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            if !text.isEmpty { text += " " }
            text += key
            text += "="
            text += value.description
        }
        return text
    }

    /// Writes `line` to standard error (file descriptor 2) whole: one `write` unless the kernel takes less, and
    /// never interleaved with another line of a `TextLogHandler`.
    @Sendable private static func writeToStandardError(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            standardErrorLock.withLock { _ in
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return  // nowhere to log that logging failed
                    }
                }
            }
        }
    }

    /// Keeps the lines of concurrent writers apart.
    private static let standardErrorLock = Mutex(())

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
