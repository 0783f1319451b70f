import Foundation

/// A private PostgreSQL cluster for a test that stops and starts its server.
struct ThrowawayCluster {
    let port: Int
    let directory: String
    private let binaries: String
    private let runAs: [String]

    var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    init() throws {
        guard let binaries = Self.findBinaries() else {
            throw PostgresTestDatabase.Unavailable(
                description: "no initdb/pg_ctl found: install Debian's postgresql package")
        }
        self.binaries = binaries
        runAs = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        directory = "/tmp/booking-restart-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        port = Int.random(in: 20_000...40_000)
        if getuid() == 0 { try Self.run(["/bin/chown", "postgres", directory], as: []) }
        try Self.run(
            [binaries + "/initdb", "-D", directory + "/data", "-U", "postgres", "--auth=trust", "--no-instructions"],
            as: runAs)
        try start()
    }

    func start() throws {
        try Self.run(
            [
                binaries + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60",
                "-o", "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory)", "start",
            ], as: runAs)
    }

    func stop() throws {
        try Self.run([binaries + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"], as: runAs)
    }

    func destroy() {
        try? stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func findBinaries() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates =
            path.split(separator: ":").map(String.init)
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).map {
                "/usr/lib/postgresql/\($0)/bin"
            }
        return candidates.first {
            FileManager.default.isExecutableFile(atPath: $0 + "/initdb")
                && FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl")
        }
    }

    /// Runs a command and waits for it with `posix_spawn` and `waitpid` (the server it starts
    /// keeps running after `pg_ctl` exits).
    private static func run(_ command: [String], as prefix: [String]) throws {
        let full = prefix + command
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = full.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        guard posix_spawn(&pid, full[0], &actions, nil, arguments, environ) == 0 else {
            throw PostgresTestDatabase.Unavailable(description: "could not start \(command[0])")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else {
            throw PostgresTestDatabase.Unavailable(description: "\(command[0]) exited with status \(status)")
        }
    }
}
