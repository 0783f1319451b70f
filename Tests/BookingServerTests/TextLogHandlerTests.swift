import Foundation
import Logging
import Synchronization
import Testing

@testable import BookingServer

@Suite("the text log handler writes StreamLogHandler's lines byte for byte")
struct TextLogHandlerTests {
    /// Collects what a handler writes.
    final class Lines: TextOutputStream, Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        func write(_ string: String) { append(string) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String { "the sender said no" }
    }

    /// One way of logging, done through both handlers.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let label: String
        let handlerMetadata: Logger.Metadata
        let provided: Logger.Metadata
        let event: LogEvent
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "no metadata", label: "booking-server", handlerMetadata: [:], provided: [:],
            event: event(.info, "booking-server listening", metadata: nil)),
        Case(
            name: "the handler's metadata only", label: "booking-server",
            handlerMetadata: ["hb.request.id": "cc7e8c9e", "a": "1"], provided: [:],
            event: event(.warning, "request", metadata: nil)),
        Case(
            name: "a line's metadata over the handler's, nested values", label: "booking-server",
            handlerMetadata: ["hb.request.id": "cc7e8c9e", "http.status": "200"], provided: [:],
            event: event(
                .notice, "request",
                metadata: [
                    "http.status": "201", "list": ["x", "y"], "map": ["k": "v"], "duration_ms": "1.213",
                ])),
        Case(
            name: "an error, an empty label, a metadata provider", label: "",
            handlerMetadata: ["z": "last"], provided: ["trace": "t-1"],
            event: event(.error, "notification failed", metadata: ["notification.id": "7"], error: Failure())),
        Case(
            name: "a metadata provider alone", label: "booking-server", handlerMetadata: ["a": "1"],
            provided: ["trace": "t-2"], event: event(.info, "request", metadata: nil)),
        Case(
            name: "an error alone", label: "booking-server", handlerMetadata: ["a": "1"], provided: [:],
            event: event(.warning, "send failed", metadata: nil, error: Failure())),
        Case(
            name: "one key from the handler, the provider and the line; an error over a line's error keys",
            label: "booking-server", handlerMetadata: ["k": "handler"], provided: ["k": "provider", "p": "only"],
            event: event(
                .error, "clash", metadata: ["k": "line", "error.message": "mine", "error.type": "mine"],
                error: Failure())),
        Case(
            name: "non-ASCII text", label: "café",
            handlerMetadata: [:], provided: [:],
            event: event(.critical, "line one – ünïcode", metadata: ["clé": "välue"])),
    ]

    static func event(
        _ level: Logger.Level, _ message: Logger.Message, metadata: Logger.Metadata?, error: (any Error)? = nil
    ) -> LogEvent {
        LogEvent(
            level: level, message: message, error: error, metadata: metadata, source: "BookingServer",
            file: #fileID, function: #function, line: #line)
    }

    @Test("the same line as StreamLogHandler", arguments: cases)
    func sameLine(_ example: Case) {
        let provider: Logger.MetadataProvider? =
            example.provided.isEmpty ? nil : Logger.MetadataProvider { example.provided }
        // The two lines are written within the same second but for a rare tick of the clock between them.
        var attempts = 0
        var ours: [String] = []
        var theirs: [String] = []
        repeat {
            attempts += 1
            let oursOut = Lines()
            let theirsOut = Lines()
            var handler = TextLogHandler(label: example.label, metadataProvider: provider) { oursOut.append($0) }
            var reference = StreamLogHandler(label: example.label, stream: theirsOut, metadataProvider: provider)
            for (key, value) in example.handlerMetadata {
                handler[metadataKey: key] = value
                reference[metadataKey: key] = value
            }
            handler.log(event: example.event)
            reference.log(event: example.event)
            ours = oursOut.all
            theirs = theirsOut.all
        } while ours != theirs && attempts < 3
        #expect(ours == theirs)
        #expect(ours.count == 1 && ours[0].hasSuffix("\n"))
    }

    @Test(
        "a control character in the message or a value is escaped, so one event is one line and a caller forges none"
    )
    func controlCharacters() {
        let out = Lines()
        var handler = TextLogHandler(label: "booking-server", metadataProvider: nil) { out.append($0) }
        handler[metadataKey: "from.handler"] = "a\tb"
        handler.log(
            event: Self.event(
                .info, "line one\nline two – ünïcode\r",
                metadata: [
                    "http.path": "/x\n2026-11-30T00:00:00+0000 error booking-server: forged", "escape": "\u{1B}[31m",
                    "plain": "välue",
                ]))
        let line = out.all.joined()
        #expect(line.filter { $0 == "\n" }.count == 1 && line.hasSuffix("\n"), "\(line)")
        #expect(line.contains(" http.path=/x\\n2026-11-30T00:00:00+0000 error booking-server: forged"), "\(line)")
        #expect(line.contains(" escape=\\u{1B}[31m") && line.contains(" from.handler=a\\tb"), "\(line)")
        #expect(line.contains(" plain=välue") && line.hasSuffix("] line one\\nline two – ünïcode\\r\n"), "\(line)")
        #expect(!line.unicodeScalars.dropLast().contains { $0.value < 0x20 || $0.value == 0x7F }, "\(line)")
    }

    @Test("the time is local, in the zone the process runs in, as StreamLogHandler writes it")
    func localTime() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("text-log-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = "sqlite:" + directory.appendingPathComponent("booking.sqlite").path
        // POSIX zone strings: no tzdata needed, no daylight saving time.
        for (zone, offset) in [("<+0530>-5:30", "+0530"), ("<-0330>3:30", "-0330"), ("UTC0", "+0000")] {
            let run = try await ServerProcess.runToExit(
                ["migrate", "--store", store, "--log-format", "text", "--log-level", "info"], environment: ["TZ": zone])
            #expect(run.status == 0)
            let line = try #require(
                run.standardError.split(separator: "\n").first { $0.contains("migrations applied") })
            let stamp = try #require(line.split(separator: " ").first.map(String.init))
            // 2026-11-29T02:47:54+0530
            #expect(stamp.count == 24 && stamp.hasSuffix(offset), "\(zone): \(line)")
        }
    }
}
