import Foundation
import TestSupport
import Testing

@testable import BookingServer

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real `booking-server` executable, started as a child process.
struct ServerProcess {
    let port: Int
    private let child: ChildProcess?

    static var executable: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "booking-server"
        ).path
    }

    /// A handle for requests to a server started elsewhere (it cannot be terminated through this value).
    init(attachedTo port: Int) {
        self.port = port
        child = nil
    }

    init(arguments: [String], environment: [String: String] = [:], port: Int) throws {
        self.port = port
        child = try ChildProcess([Self.executable] + arguments, environment: environment)
    }

    /// Waits until `/health` answers.
    func waitUntilHealthy() async throws {
        for _ in 0..<300 {
            if (try? await request("GET", "/health").status) == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ServerFailure(description: "the server did not become healthy on port \(port)")
    }

    /// Runs `program` (booking-server, or another executable of the package) with `arguments` (and `environment`
    /// over this process's) until it exits by itself: its exit status and standard error (or standard output).
    static func runToExit(
        _ arguments: [String], environment: [String: String] = [:], program: String = "booking-server",
        readingStandardOutput: Bool = false
    ) async throws -> (status: Int32, standardError: String) {
        let path = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(program).path
        let child = try ChildProcess(
            [path] + arguments, environment: environment,
            piping: readingStandardOutput ? .standardOutput : .standardError)
        let reader = child.piped
        return await onOwnThread {
            let text = String(decoding: reader?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
            return (ChildProcess.exitCode(of: child.wait()), text)
        }
    }

    /// Sends SIGTERM and returns the exit status.
    func terminate() async -> Int32 {
        guard let child else { return -1 }
        child.send(SIGTERM)
        return await child.exited()
    }

    /// Sends SIGTERM and waits for the exit, blocking the calling thread: for a `defer`, which cannot await. A test
    /// awaits ``terminate()`` on its normal path, after which this returns at once; it blocks only when the test
    /// left early.
    func terminateBeforeLeaving() {
        guard let child else { return }
        child.send(SIGTERM)
        _ = child.wait()
    }

    /// The body of `GET path` as text.
    func text(_ path: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return String(decoding: data, as: UTF8.self)
    }

    func request(_ method: String, _ path: String, body: Any? = nil, headers: [String: String] = [:]) async throws -> (
        status: Int, json: Any?
    ) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, try? JSONSerialization.jsonObject(with: data))
    }

    struct ServerFailure: Error, CustomStringConvertible {
        let description: String
    }
}

@Suite("the booking-server executable")
struct ExecutableTests {
    @Test(
        "the README's quick start is Sources/Examples/QuickStart/main.swift verbatim, and quick-start runs it to the end"
    )
    func quickStart() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let main = try String(
            contentsOf: root.appendingPathComponent("Sources/Examples/QuickStart/main.swift"), encoding: .utf8)
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let opening = "## Use it as a library\n\n```swift\n"
        let start = try #require(readme.range(of: opening)).upperBound
        let end = try #require(readme.range(of: "```\n", range: start..<readme.endIndex)).lowerBound
        #expect(String(readme[start..<end]) == main)

        let (status, printed) = try await ServerProcess.runToExit(
            [], program: "quick-start", readingStandardOutput: true)
        #expect(status == 0)
        let lines = printed.split(separator: "\n")
        #expect(lines.count == 4, "\(printed)")
        #expect(
            lines.first?.hasPrefix("booked #1 at ") == true && lines.dropFirst(2).first?.contains("sequence 1") == true)
        #expect(lines.last == "#1 is cancelled; its slot is free again: true", "\(printed)")
    }

    /// Starts `booking-server serve` on the memory store with `arguments` and `environment` over this process's (less
    /// its settings of `malloc`, which the server leaves to an operator), waits until it is healthy, sends SIGTERM: its
    /// exit status and standard error.
    static func serveUntilTerminated(_ arguments: [String] = [], environment: [String: String] = [:]) async throws
        -> (status: Int32, standardError: String)
    {
        let port = try freePort()
        let child = try ChildProcess(
            [ServerProcess.executable, "serve", "--store", "memory", "--port", "\(port)"] + arguments,
            environment: ["BOOKING_ADMIN_TOKEN": "exec-admin-token-0123456789"].merging(environment) { $1 },
            removing: { ($0.hasPrefix("MALLOC_") || $0 == "GLIBC_TUNABLES") && environment[$0] == nil },
            piping: .standardError)
        let reader = child.piped
        func standardError() async -> (status: Int32, standardError: String) {
            await onOwnThread {
                let output = String(decoding: reader?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
                return (ChildProcess.exitCode(of: child.wait()), output)
            }
        }
        do {
            try await ServerProcess(attachedTo: port).waitUntilHealthy()
        } catch {
            child.send(SIGTERM)
            throw ServerProcess.ServerFailure(
                description: "\(error); the server's standard error: \(await standardError().standardError)")
        }
        child.send(SIGTERM)
        return await standardError()
    }

    @Test("SIGTERM is said at notice level when the shutdown begins and when it has ended, then the exit status is 0")
    func shutdownIsAnnounced() async throws {
        let (status, output) = try await Self.serveUntilTerminated()
        #expect(status == 0)
        let lines = output.split(separator: "\n")
        let begins = lines.firstIndex { $0.contains(" notice ") && $0.contains("booking-server shutting down") }
        let ends = lines.firstIndex { $0.contains(" notice ") && $0.hasSuffix("booking-server stopped") }
        #expect(begins != nil && ends != nil && begins! < ends!, "\(output)")
        #expect(!output.contains("cut off"), "a shutdown that ends in time cuts nothing off: \(output)")
    }

    @Test(
        "SIGQUIT, or a second SIGTERM or SIGINT, cuts a shutdown short: a request still in flight is cancelled at once, not waited for up to --shutdown-timeout-seconds",
        arguments: [SIGQUIT, SIGTERM, SIGINT])
    func quitSkipsTheWait(_ second: Int32) async throws {
        let port = try freePort()
        let child = try ChildProcess(
            [
                ServerProcess.executable, "serve", "--store", "memory", "--port", "\(port)",
                "--shutdown-timeout-seconds", "3600",
            ],
            environment: ["BOOKING_ADMIN_TOKEN": "exec-admin-token-0123456789"], piping: .standardError)
        let reader = child.piped
        let output = Task {
            await onOwnThread { String(decoding: reader?.readDataToEndOfFile() ?? Data(), as: UTF8.self) }
        }
        defer {
            child.send(SIGKILL)
            _ = child.wait()
        }
        try await ServerProcess(attachedTo: port).waitUntilHealthy()
        // A booking whose body never comes (its client waits 10 s for an answer): the shutdown would wait for it.
        let head = "POST /api/appointments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        let halfSent = Task { try? await exchangeRaw(Array((head + "Content-Length: 100\r\n\r\n{").utf8), port: port) }
        try await Task.sleep(for: .seconds(2))
        child.send(SIGTERM)
        try await Task.sleep(for: .seconds(1))
        #expect(child.isRunning, "the graceful shutdown waits for the request in flight")
        child.send(second)
        #expect(await child.exited() == 0)
        let log = await output.value
        #expect(
            log.contains("cut off what was still in flight, at its shutdown timeout or on a second signal"), "\(log)")
        #expect(log.hasSuffix("booking-server stopped\n"), "\(log)")
        _ = await halfSent.value
    }

    @Test(
        "with nobody reading its standard error any more, the server goes on answering in either log format, and stops with status 0",
        arguments: ["text", "json"])
    func standardErrorUnread(format: String) async throws {
        let port = try freePort()
        let child = try ChildProcess(
            [
                ServerProcess.executable, "serve", "--store", "memory", "--port", "\(port)", "--log-format", format,
                "--log-level", "debug",
            ],
            environment: ["BOOKING_ADMIN_TOKEN": "exec-admin-token-0123456789"], piping: .standardError)
        let server = ServerProcess(attachedTo: port)
        do {
            try await server.waitUntilHealthy()
        } catch {
            child.send(SIGTERM)
            _ = await child.exited()
            throw error
        }
        // Every line from now on meets a pipe nobody reads (EPIPE: the server ignores SIGPIPE, as NIO does).
        try child.piped?.close()
        for _ in 0..<5 {
            #expect(try await server.request("GET", "/api/availability").status == 200)
            #expect(try await server.request("GET", "/api/appointments/1").status == 401)
        }
        #expect(child.isRunning, "the server died writing its log")
        child.send(SIGTERM)
        #expect(await child.exited() == 0)
    }

    #if os(Linux) && canImport(Glibc)
        @Test(
            "the server sets malloc's thresholds for its answer buffers, unless the environment tunes malloc",
            arguments: [
                ([:], MallocTuning.Outcome.applied),
                (["GLIBC_TUNABLES": "glibc.malloc.arena_max=4"], .leftToOperator),
                (["MALLOC_TRIM_THRESHOLD_": "131072"], .leftToOperator),
            ])
        func mallocTuning(environment: [String: String], outcome: MallocTuning.Outcome) async throws {
            let (status, output) = try await Self.serveUntilTerminated(
                ["--log-level", "debug"], environment: environment)
            #expect(status == 0)
            let line = output.split(separator: "\n").first { $0.contains("malloc thresholds for answer buffers") }
            #expect(line?.contains(" outcome=\(outcome.rawValue) ") == true, "\(output)")
        }
    #endif

    @Test("serves over real HTTP, shuts down on SIGTERM, and finds its booking after a restart")
    func restart() async throws {
        let directory = NSTemporaryDirectory() + "booking-server-exec-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func arguments(_ port: Int) -> [String] {
            ["serve", "--store", "sqlite:\(directory)/booking.sqlite", "--port", "\(port)"]
        }
        let environment = ["BOOKING_ADMIN_TOKEN": "exec-admin-token-0123456789"]
        let admin = ["Authorization": "Bearer exec-admin-token-0123456789"]

        let port = try freePort()
        let first = try ServerProcess(arguments: arguments(port), environment: environment, port: port)
        defer { first.terminateBeforeLeaving() }
        try await first.waitUntilHealthy()
        let slots = try #require(try await first.request("GET", "/api/availability").json as? [[String: Any]])
        // Not the first slot: it may start while a busy machine stalls this task between reading and booking it.
        let slot = try #require(slots.dropFirst().first)
        let start = try #require(slot["start"] as? String)
        let end = try #require(slot["end"] as? String)
        let booked = try await first.request(
            "POST", "/api/appointments",
            body: ["slotStart": start, "slotEnd": end, "name": "Ada", "email": "ada@example.com"])
        #expect(booked.status == 201)
        let id = try #require((booked.json as? [String: Any])?["id"] as? Int)
        // The dispatcher's metrics, made when it is, count: the metrics system was bootstrapped before. The count
        // and the delivery time are two updates, one after the other: a scrape may fall between them.
        let sent = "booking_notifications_sent_total{kind=\"booked\"} 1\n"
        let delivered = "booking_notification_delivery_seconds_count{kind=\"booked\"} 1\n"
        var metrics = ""
        for _ in 0..<600 where !(metrics.contains(sent) && metrics.contains(delivered)) {
            try await Task.sleep(for: .milliseconds(50))
            metrics = try await first.text("/metrics")
        }
        #expect(metrics.contains(sent), "\(metrics)")
        #expect(metrics.contains(delivered), "\(metrics)")
        #expect(metrics.contains("booking_bookings_total 1\n"))
        let status = await first.terminate()
        #expect(status == 0, "exit status after SIGTERM")

        // A port of its own: the first one, free again, may have gone to another test meanwhile. The booking is in the
        // file.
        let secondPort = try freePort()
        let second = try ServerProcess(arguments: arguments(secondPort), environment: environment, port: secondPort)
        defer { second.terminateBeforeLeaving() }
        try await second.waitUntilHealthy()
        let listed = try #require(
            try await second.request("GET", "/api/appointments", headers: admin).json as? [[String: Any]])
        #expect(listed.map { $0["id"] as? Int } == [id])
        let again = try await second.request(
            "POST", "/api/appointments",
            body: ["slotStart": start, "slotEnd": end, "name": "Eve", "email": "eve@example.com"])
        #expect(again.status == 409)
        _ = await second.terminate()  // awaited here, so the `defer` has nothing left to wait for
    }

    @Test(
        "a bad setting stops the server at start-up with one line naming it",
        arguments: [
            (["--port", "99999"], "--port"), (["--time-zone", "Mars/Olympus"], "--time-zone"),
            (["--hours", "mon=9-5"], "--hours"),
            (["--store", "redis://x"], "--store"), (["--log-format", "xml"], "--log-format"),
            (["--admin-token", "too-short"], "--admin-token"),
            (["--webhook-url", "https://hooks.example", "--webhook-secret", "s3cret"], "--webhook-secret '(hidden)'"),
            (["--calendar-feed-secret", "too-short"], "--calendar-feed-secret '(hidden)'"),
            (["--webhook-calendar"], "--webhook-calendar"),
            (["--capacity", "0"], "--capacity"), (["--daily-limit", "none"], "--daily-limit"),
            (["--hold-minutes", "61"], "--hold-minutes"), (["--host", "999.1.1.1"], "--host"),
            (
                [
                    "--webhook-url", "http://127.0.0.1:99999/hook", "--webhook-secret",
                    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                ],
                "--webhook-url"
            ),
            (["--store", "postgres://u:pw@127.0.0.1:99999/db"], "--store"),
            (["--store", "postgres://u:pw@127.0.0.1/db?sslmode=bogus"], "--store"),
        ])
    func badSetting(arguments: [String], flag: String) async throws {
        let (status, output) = try await ServerProcess.runToExit(["serve", "--store", "memory"] + arguments)
        #expect(status == 64)
        #expect(output.contains("invalid \(flag)"), "stderr: \(output)")
        #expect(output.split(separator: "\n").count == 1)
    }

    @Test(
        "a bad setting under --log-format json (or BOOKING_LOG_FORMAT=json, with the flag empty or not given) is one JSON object at critical, exit 64"
    )
    func badSettingAsJSON() async throws {
        for (arguments, environment) in [
            (["--log-format", "json"], [:]), ([], ["BOOKING_LOG_FORMAT": "JSON"]),
            (["--log-format", ""], ["BOOKING_LOG_FORMAT": "json"]),
        ] as [([String], [String: String])] {
            let (status, output) = try await ServerProcess.runToExit(
                ["serve", "--store", "memory", "--hours", "a\nb"] + arguments, environment: environment)
            #expect(status == 64)
            let lines = output.split(separator: "\n")
            #expect(lines.count == 1, "\(output)")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any], "\(output)")
            #expect(object["level"] as? String == "critical")
            #expect((object["msg"] as? String)?.hasPrefix("invalid --hours 'a\\nb'") == true, "\(output)")
        }
    }

    @Test(
        "a port already taken stops the server with exit 69 and one line, in the log format, saying where it could not listen"
    )
    func portTaken() async throws {
        let port = try freePort()
        let first = try ServerProcess(
            arguments: ["serve", "--store", "memory", "--port", "\(port)"], environment: [:], port: port)
        defer { first.terminateBeforeLeaving() }
        try await first.waitUntilHealthy()
        let (status, output) = try await ServerProcess.runToExit(
            ["serve", "--store", "memory", "--port", "\(port)", "--log-level", "warning"],
            environment: ["BOOKING_ADMIN_TOKEN": "admin-token-0123456789"])
        #expect(status == 69)
        #expect(
            output == "booking-server: cannot listen on 127.0.0.1 port \(port): Address already in use\n", "\(output)")
        let (jsonStatus, jsonOutput) = try await ServerProcess.runToExit(
            ["serve", "--store", "memory", "--port", "\(port)", "--log-level", "warning", "--log-format", "json"],
            environment: ["BOOKING_ADMIN_TOKEN": "admin-token-0123456789"])
        #expect(jsonStatus == 69)
        #expect(jsonOutput.split(separator: "\n").count == 1, "\(jsonOutput)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(jsonOutput.utf8)) as? [String: String], "\(jsonOutput)")
        #expect(object["msg"] == "cannot listen on 127.0.0.1 port \(port): Address already in use")
        #expect(object["level"] == "critical" && object["label"] == "booking-server" && object["ts"] != nil)
        _ = await first.terminate()  // awaited here, so the `defer` has nothing left to wait for
    }

    @Test(
        "a store that cannot be opened, or migrated, stops the command with exit 69 and one line (a JSON object under json logs)"
    )
    func storeOutOfReach() async throws {
        let environment = ["BOOKING_ADMIN_TOKEN": "admin-token-0123456789"]
        let missing = "sqlite:/nonexistent-\(UUID().uuidString)/booking.sqlite"
        let (status, output) = try await ServerProcess.runToExit(
            ["serve", "--store", missing, "--log-format", "json"], environment: environment)
        #expect(status == 69)
        #expect(output.split(separator: "\n").count == 1, "\(output)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String], "\(output)")
        #expect(object["level"] == "critical")
        #expect(object["msg"]?.hasPrefix("cannot open the store \(missing): ") == true, "\(output)")
        // Nothing listens on port 1: the migration cannot reach its database (2 s connection wait). At the default
        // level, `info`, the pool's log of each refused connection (at `info`) stays out: one line says it all.
        let (migrateStatus, migrateOutput) = try await ServerProcess.runToExit(
            ["migrate", "--store", "postgres://booking:secret@127.0.0.1:1/booking"], environment: environment)
        #expect(migrateStatus == 69)
        #expect(migrateOutput.split(separator: "\n").count == 1, "\(migrateOutput)")
        #expect(
            migrateOutput.hasPrefix("booking-server: cannot migrate the store postgres://127.0.0.1:1/booking: "),
            "\(migrateOutput)")
        #expect(!migrateOutput.contains("secret"))
        // The line names the cause, which the pool logs only at info.
        #expect(
            migrateOutput.contains("nothing accepts connections at 127.0.0.1:1 (connection refused)"),
            "\(migrateOutput)")
        // `serve` migrates before it listens (and its dispatcher before its first poll): one line, exit 69 too.
        let (serveStatus, serveOutput) = try await ServerProcess.runToExit(
            [
                "serve", "--store", "postgres://booking:secret@127.0.0.1:1/booking", "--log-level", "error",
                "--port", "\(try freePort())",
            ], environment: environment)
        #expect(serveStatus == 69)
        #expect(serveOutput.split(separator: "\n").count == 1, "\(serveOutput)")
        #expect(
            serveOutput.hasPrefix("booking-server: cannot serve from the store postgres://127.0.0.1:1/booking: "),
            "\(serveOutput)")
        #expect(serveOutput.contains("(connection refused)"), "\(serveOutput)")
        // A control character in a store's path is escaped: the line stays one.
        let (brokenStatus, brokenOutput) = try await ServerProcess.runToExit(
            ["serve", "--store", "sqlite:/nonexistent-\(UUID().uuidString)/a\nforged line.sqlite"],
            environment: environment)
        #expect(brokenStatus == 69)
        #expect(brokenOutput.split(separator: "\n").count == 1, "\(brokenOutput)")
        #expect(brokenOutput.contains("/a\\nforged line.sqlite"), "\(brokenOutput)")
    }

    @Test(
        "migrate's help lists the store's and the log's options alone; it accepts serve's others too, checked as serve checks them"
    )
    func migrateOptions() async throws {
        let (helpStatus, help) = try await ServerProcess.runToExit(["migrate", "--help"], readingStandardOutput: true)
        #expect(helpStatus == 0)
        for listed in ["--store", "--log-level", "--log-format"] { #expect(help.contains(listed), "\(help)") }
        for unlisted in ["--port", "--hours", "--webhook-url", "--admin-token"] {
            #expect(!help.contains(unlisted), "\(help)")
        }
        let (hiddenStatus, hidden) = try await ServerProcess.runToExit(
            ["migrate", "--help-hidden"], readingStandardOutput: true)
        #expect(hiddenStatus == 0)
        for listed in ["--store", "--port", "--hours", "--webhook-url"] {
            #expect(hidden.contains(listed), "\(hidden)")
        }
        let (serveStatus, serveHelp) = try await ServerProcess.runToExit(
            ["serve", "--help"], readingStandardOutput: true)
        #expect(serveStatus == 0)
        for listed in ["--store", "--log-level", "--log-format", "--port", "--hours", "--webhook-url"] {
            #expect(serveHelp.contains(listed), "\(serveHelp)")
        }
        // The command line of serve migrates.
        let path = NSTemporaryDirectory() + "migrate-\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let (status, output) = try await ServerProcess.runToExit([
            "migrate", "--store", "sqlite:\(path)", "--port", "4000", "--hours", "mon-fri=09:00-17:00",
            "--slot-minutes", "45", "--log-level", "notice",
        ])
        #expect(status == 0, "\(output)")
        #expect(FileManager.default.fileExists(atPath: path))
        // A bad value of one of them is refused as serve refuses it, and nothing is migrated.
        let refusedPath = NSTemporaryDirectory() + "migrate-\(UUID().uuidString).sqlite"
        let (refusedStatus, refused) = try await ServerProcess.runToExit([
            "migrate", "--store", "sqlite:\(refusedPath)", "--slot-minutes", "0",
        ])
        #expect(refusedStatus == 64)
        #expect(refused.hasPrefix("booking-server: invalid --slot-minutes '0'"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: refusedPath))
    }

    @Test("a bad resources file stops the server at start-up with exit 64 and one line naming resource and field")
    func badResourcesFile() async throws {
        let path = NSTemporaryDirectory() + "resources-\(UUID().uuidString).json"
        try #"{"resources": [{"id": "dr-lee", "timeZone": "Europe/Londn"}]}"#.write(
            toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, output) = try await ServerProcess.runToExit(["serve", "--store", "memory", "--config", path])
        #expect(status == 64)
        #expect(
            output == """
                booking-server: invalid --config '\(path)' (or BOOKING_CONFIG): resource "dr-lee": field "timeZone": \
                must be an IANA zone like Europe/London or UTC, not "Europe/Londn"

                """, "stderr: \(output)")
    }

    @Test(
        "a request HTTP/1.1 cannot parse is answered with problem details (431 for a head over 80 KiB, 400 otherwise) and the connection closed; answers before it in the pipeline stay as they were"
    )
    func unparsableRequests() async throws {
        let port = try freePort()
        let server = try ServerProcess(
            arguments: ["serve", "--store", "memory", "--port", "\(port)"],
            environment: ["BOOKING_ADMIN_TOKEN": "exec-admin-token-0123456789"], port: port)
        defer { server.terminateBeforeLeaving() }
        try await server.waitUntilHealthy()
        let long = String(repeating: "a", count: 90_000)
        let health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        let cases: [(request: String, answersBefore: Int, status: Int, reason: String, code: String)] = [
            (
                "GET /api/availability?x=\(long) HTTP/1.1\r\nHost: x\r\n\r\n", 0, 431,
                "Request Header Fields Too Large",
                "REQUEST_HEAD_TOO_LARGE"
            ),
            (
                "GET /health HTTP/1.1\r\nHost: x\r\nX-Long: \(long)\r\n\r\n", 0, 431, "Request Header Fields Too Large",
                "REQUEST_HEAD_TOO_LARGE"
            ),
            (
                "GET /health HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-A: b\r\n", count: 1_001) + "\r\n", 0, 431,
                "Request Header Fields Too Large", "REQUEST_HEAD_TOO_LARGE"
            ),
            ("GARBAGE\r\n\r\n", 0, 400, "Bad Request", "BAD_REQUEST"),
            (
                "POST /api/appointments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 0, 400, "Bad Request", "BAD_REQUEST"
            ),
            ("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 0, 400, "Bad Request", "BAD_REQUEST"),
            (health + health + "BROKEN\r\n\r\n", 2, 400, "Bad Request", "BAD_REQUEST"),
        ]
        for (request, answersBefore, status, reason, code) in cases {
            let (bytes, closedByServer) = try await exchangeRaw(Array(request.utf8), port: port)
            #expect(closedByServer, "the server closes the connection after the answer")
            let answer = String(decoding: bytes, as: UTF8.self)
            let answers = answer.components(separatedBy: "HTTP/1.1 ").dropFirst().map { "HTTP/1.1 " + $0 }
            #expect(answers.count == answersBefore + 1, "\(answer.prefix(2000))")
            for earlier in answers.prefix(answersBefore) {
                #expect(
                    earlier.hasPrefix("HTTP/1.1 200 OK\r\n") && earlier.hasSuffix("\r\n\r\n{\"ok\":true}"), "\(earlier)"
                )
            }
            let last = try #require(answers.last)
            let parts = last.components(separatedBy: "\r\n\r\n")
            try #require(parts.count == 2, "\(last)")
            let head = parts[0].lowercased().components(separatedBy: "\r\n")
            #expect(head.first == "http/1.1 \(status) \(reason.lowercased())", "\(last)")
            #expect(head.contains("content-type: application/problem+json"), "\(last)")
            #expect(head.contains("connection: close"), "\(last)")
            #expect(head.contains("content-length: \(parts[1].utf8.count)"), "\(last)")
            #expect(head.contains("server: swift-booking") && head.contains { $0.hasPrefix("date: ") }, "\(last)")
            let problem = try #require(
                try JSONSerialization.jsonObject(with: Data(parts[1].utf8)) as? [String: Any], "\(last)")
            #expect(problem["status"] as? Int == status && problem["code"] as? String == code, "\(last)")
            #expect(problem["title"] as? String == reason && problem["type"] as? String == "about:blank")
            #expect(
                (problem["detail"] as? String)?.isEmpty == false
                    && problem["detail"] as? String == problem["error"] as? String)
        }
        #expect(try await server.request("GET", "/health").status == 200, "the server still serves")
        _ = await server.terminate()  // awaited here, so the `defer` has nothing left to wait for
    }

    @Test(
        "a connection idle for --idle-timeout-seconds is closed by the server: one whose head never ends, and one kept alive after its answer"
    )
    func idleConnectionsClose() async throws {
        let port = try freePort()
        let server = try ServerProcess(
            arguments: ["serve", "--store", "memory", "--port", "\(port)", "--idle-timeout-seconds", "1"],
            environment: ["BOOKING_ADMIN_TOKEN": "exec-admin-token-0123456789"], port: port)
        defer { server.terminateBeforeLeaving() }
        try await server.waitUntilHealthy()
        // Without the timeout each exchange would wait out the helper's 10 s and report the connection still open;
        // with a server closing at once (not after 1 s idle), each would end sooner than the timeout.
        var started = ContinuousClock.now
        let partial = try await exchangeRaw(Array("GET /health HTTP/1.1\r\nHo".utf8), port: port)
        #expect(partial.closedByServer && partial.answer.isEmpty, "\(partial)")
        #expect(ContinuousClock.now - started >= .milliseconds(900), "closed after the idle timeout, not at once")
        // Two requests on one connection, both answered (keep-alive works), then closed once idle.
        let health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        started = ContinuousClock.now
        let answered = try await exchangeRaw(Array((health + health).utf8), port: port)
        let text = String(decoding: answered.answer, as: UTF8.self)
        #expect(answered.closedByServer, "the kept-alive connection is closed once idle")
        #expect(ContinuousClock.now - started >= .milliseconds(900), "kept alive until the idle timeout")
        #expect(text.components(separatedBy: "HTTP/1.1 200 OK\r\n").count == 3, "\(text)")
        #expect(text.hasSuffix("{\"ok\":true}"), "\(text)")
        #expect(try await server.request("GET", "/health").status == 200, "the server still serves")
        _ = await server.terminate()  // awaited here, so the `defer` has nothing left to wait for
    }

    @Test("serves the resources of a resources file, in its order")
    func resourcesFile() async throws {
        let path = NSTemporaryDirectory() + "resources-\(UUID().uuidString).json"
        try #"""
        {"resources": [{"id": "room-b", "name": "Room B", "timeZone": "UTC"},
                       {"id": "dr-lee", "name": "Dr. Lee", "timeZone": "Europe/London", "slotMinutes": 20}]}
        """#.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let port = try freePort()
        let server = try ServerProcess(
            arguments: ["serve", "--store", "memory", "--port", "\(port)", "--config", path],
            environment: ["BOOKING_ADMIN_TOKEN": "exec-admin-token-0123456789"], port: port)
        defer { server.terminateBeforeLeaving() }
        try await server.waitUntilHealthy()
        let listed = try #require(try await server.request("GET", "/api/resources").json as? [[String: Any]])
        #expect(listed.map { $0["id"] as? String } == ["room-b", "dr-lee"])
        #expect(listed.map { $0["slot_minutes"] as? Int } == [30, 20])
        #expect(try await server.request("GET", "/api/availability").status == 404, "no resource `default` here")
        #expect(try await server.request("GET", "/api/availability?resource=dr-lee").status == 200)
        _ = await server.terminate()  // awaited here, so the `defer` has nothing left to wait for
    }

    @Test(
        "the generated admin token is readable through a pipe while the server runs, in the log format, and it works",
        arguments: ["text", "json"])
    func generatedTokenThroughAPipe(format: String) async throws {
        let port = try freePort()
        let child = try ChildProcess(
            [ServerProcess.executable, "serve", "--store", "memory", "--port", "\(port)", "--log-format", format],
            removing: { $0 == "BOOKING_ADMIN_TOKEN" }, piping: .standardError)
        defer {
            // Blocks only when the test left early: its normal path awaits the exit below.
            child.send(SIGTERM)
            _ = child.wait()
        }
        let reader = try #require(child.piped)
        let line = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                await onOwnThread {
                    var seen = ""
                    while true {
                        let chunk = reader.availableData
                        if chunk.isEmpty { return nil }
                        seen += String(decoding: chunk, as: UTF8.self)
                        if let line = seen.split(separator: "\n").first(where: { $0.contains("generated admin token") })
                        {
                            return String(line)
                        }
                    }
                }
            }
            group.addTask {
                // Ends the reader too: the pipe closes when the server exits.
                try? await Task.sleep(for: .seconds(30))
                if !Task.isCancelled { child.send(SIGTERM) }
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let tokenLine = try #require(line, "no token line on standard error within 30 s")
        #expect(child.isRunning, "the line was read while the server runs, not at exit")
        let token: String
        if format == "json" {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(tokenLine.utf8)) as? [String: String], "\(tokenLine)")
            #expect(object["msg"] == "generated admin token (set BOOKING_ADMIN_TOKEN to choose one)")
            #expect(object["level"] == "notice" && object["label"] == "booking-server")
            token = try #require(object["admin_token"])
        } else {
            #expect(
                tokenLine.hasPrefix("booking-server: generated admin token (set BOOKING_ADMIN_TOKEN to choose one): "))
            token = try #require(tokenLine.split(separator: " ").last.map(String.init))
        }
        #expect(token.count >= 32)
        let server = ServerProcess(attachedTo: port)
        try await server.waitUntilHealthy()
        #expect(
            try await server.request("GET", "/api/appointments", headers: ["Authorization": "Bearer \(token)"]).status
                == 200)
        child.send(SIGTERM)
        #expect(await child.exited() == 0)
    }
}
