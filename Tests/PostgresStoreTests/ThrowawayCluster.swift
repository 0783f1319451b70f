import Foundation
import Synchronization
import TestSupport

/// A private PostgreSQL cluster for a test: its own directory under /tmp, a free port on 127.0.0.1
/// (found by binding port 0), and on request TLS and scram-sha-256 passwords.
///
/// There is no skipping: without initdb and pg_ctl (or openssl, for TLS) the initializer throws and
/// the test fails, saying what to install. ``destroy()`` stops the server and removes the directory;
/// a failed initializer cleans up after itself. A cluster outlived by its test process (killed before it could
/// clean up) is stopped and removed by the next cluster made on the machine (see ``ownerLockFile``).
struct ThrowawayCluster: Sendable {
    /// What the cluster asks of its clients.
    struct Options: Sendable {
        /// Serve TLS (`ssl=on`) with a certificate for the DNS name `localhost` (and nothing else: not
        /// 127.0.0.1) signed by a throwaway certificate authority, ``ThrowawayCluster/caCertificatePath``.
        var tls = false
        /// Accept TCP logins only over TLS: pg_hba.conf has `hostssl` lines and no `host` line.
        var tlsOnly = false
        /// The superuser `postgres`'s password; when set, TCP logins must give it (scram-sha-256).
        var password: String?
    }

    let port: Int
    let directory: String
    let options: Options
    private let binaries: String
    private let runAs: [String]

    /// `postgres://postgres@127.0.0.1:PORT/postgres`: no password, no sslmode.
    var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }
    /// The PEM certificate of the authority that signed the server's certificate.
    var caCertificatePath: String { directory + "/tls/ca.crt" }
    /// The PEM certificate of an unrelated authority, which did not sign the server's certificate.
    var otherCACertificatePath: String { directory + "/tls/other-ca.crt" }
    /// Set once the cluster is destroyed or abandoned; shared by the copies of this value.
    private let destroyed = DestroyedFlag()
    /// This process's claim on the cluster, held until it is destroyed or abandoned (or the process ends); shared by
    /// the copies of this value.
    private let owner: OwnerLock

    /// Makes and starts the cluster; the commands run on a thread of their own (see ``onOwnThread(_:)``), as they
    /// take seconds.
    init(_ options: Options = Options()) async throws {
        guard let binaries = Self.findBinaries() else {
            throw PostgresTestDatabase.Unavailable(
                description: "no initdb/pg_ctl found: install Debian's postgresql package")
        }
        self.binaries = binaries
        self.options = options
        runAs = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        directory = Self.parentDirectory + "/" + Self.directoryPrefix + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (directory, runAs) = (directory, runAs)
        (port, owner) = try await onOwnThread {
            var port = 0
            let owner: OwnerLock
            do {
                owner = try OwnerLock(claiming: directory + "/" + Self.ownerLockFile)
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw error
            }
            do {
                Self.reapOrphans(binaries: binaries, runAs: runAs)
                if getuid() == 0 { try Self.run(["/bin/chown", "postgres", directory], as: [], log: nil) }
                try Self.initialize(directory: directory, binaries: binaries, runAs: runAs, options: options)
                // A port found free can be taken by someone else before the server binds it: try another.
                for attempt in 1...3 {
                    port = try freePort()
                    do {
                        try Self.start(directory: directory, binaries: binaries, runAs: runAs, port: port)
                        break
                    } catch  where attempt < 3 && Self.serverLog(directory).contains("could not bind") {
                        continue
                    }
                }
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                owner.release()
                throw error
            }
            return (port, owner)
        }
    }

    /// Starts the stopped server again, on its port.
    func start() async throws {
        try await onOwnThread { [self] in
            try Self.start(directory: directory, binaries: binaries, runAs: runAs, port: port)
        }
    }

    /// Stops the server: `immediate` by default (a crash, as far as clients can tell); `fast`
    /// disconnects clients and rolls back open transactions, as an operator's restart does.
    func stop(mode: String = "immediate") async throws {
        try await onOwnThread { [self] in try stopBlockingThread(mode: mode) }
    }

    /// Stops the server and removes the directory, on a thread of its own; a later ``destroy()`` does nothing. A
    /// test calls this on its normal path and keeps ``destroy()`` in a `defer` for the paths that leave early.
    func tearDown() async {
        await onOwnThread { [self] in destroy() }
    }

    /// Stops the server and removes the directory, blocking the calling thread: for a `defer`, which cannot await.
    /// Does nothing once done (by ``tearDown()``) or after ``abandon()``.
    func destroy() {
        guard !destroyed.set() else { return }
        try? stopBlockingThread(mode: "immediate")
        try? FileManager.default.removeItem(atPath: directory)
        owner.release()
    }

    /// Lets go of the cluster without stopping it, as a test process killed before it could clean up does: the next
    /// cluster made on the machine stops and removes it.
    func abandon() {
        _ = destroyed.set()
        owner.release()
    }

    /// Where the clusters' directories are.
    private static let parentDirectory = "/tmp"
    /// How every cluster's directory's name starts: a UUID's first eight characters follow.
    private static let directoryPrefix = "booking-cluster-"
    /// The file in a cluster's directory that its test process holds an exclusive `flock` on, from before the
    /// cluster is made until it is removed, and writes its process ID into. The kernel lets go of the lock when the
    /// process ends however it ends, so a lock another process can take marks a cluster whose test process ended
    /// without removing it; the empty file of a cluster being made does not.
    static let ownerLockFile = "owner.lock"

    /// Stops and removes each cluster whose owner lock (``ownerLockFile``) can be taken and is not empty: one
    /// outlived by its test process. The server is stopped only when the process `data/postmaster.pid` names runs in
    /// that cluster's data directory (a stale file may name any process), and the directory is removed only when no
    /// such server runs or `pg_ctl stop` stopped it; a server it cannot tell about (another user's process) keeps its
    /// directory. The lock file goes last, so a removal cut short is found again. Blocks the calling thread for each
    /// `pg_ctl stop`.
    private static func reapOrphans(binaries: String, runAs: [String]) {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parentDirectory)) ?? []
        where entry.hasPrefix(directoryPrefix) {
            let directory = parentDirectory + "/" + entry
            guard
                (try? FileManager.default.attributesOfItem(atPath: directory)[.type] as? FileAttributeType)
                    == .typeDirectory,
                let claim = OwnerLock(ifOrphaned: directory + "/" + ownerLockFile)
            else { continue }
            defer { claim.release() }
            switch server(of: directory) {
            case .unknown: continue
            case .none: break
            case .running(let pid):
                let stopped =
                    (try? run(
                        [binaries + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"], as: runAs,
                        log: nil)) != nil
                guard stopped, server(of: directory) != .running(pid) else { continue }
            }
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for item in contents where item != ownerLockFile {
                try? FileManager.default.removeItem(atPath: directory + "/" + item)
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// What runs in a cluster's directory, as far as this process can tell.
    private enum ServerState: Equatable {
        /// No server: no `postmaster.pid`, or the process it names has ended or runs elsewhere.
        case none
        /// The server, with its process ID.
        case running(pid_t)
        /// A process `postmaster.pid` names runs, but where is hidden from this process.
        case unknown
    }

    /// Whether the process `data/postmaster.pid` names runs in `directory`'s data directory.
    private static func server(of directory: String) -> ServerState {
        guard let pid = postmasterID(directory), processRuns(pid) else { return .none }
        // A running process of another user hides its working directory.
        guard let workingDirectory = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")
        else { return .unknown }
        return workingDirectory == directory + "/data" ? .running(pid) : .none
    }

    /// The process ID `data/postmaster.pid` of the cluster in `directory` names, if it has one.
    static func postmasterID(_ directory: String) -> pid_t? {
        guard let file = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
            let pid = file.split(separator: "\n").first.flatMap({ pid_t($0) }), pid > 0
        else { return nil }
        return pid
    }

    /// Whether process `pid` runs: it exists and has not ended (a zombie, state Z, has ended).
    static func processRuns(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let state = stat.split(separator: ")").last?.split(separator: " ").first
        else { return false }
        return state != "Z"
    }

    private func stopBlockingThread(mode: String) throws {
        try Self.run(
            [binaries + "/pg_ctl", "-D", directory + "/data", "-m", mode, "-w", "stop"], as: runAs,
            log: directory + "/commands.log")
    }

    // MARK: - Setting up

    /// initdb, then the certificates and pg_hba.conf the options ask for.
    private static func initialize(directory: String, binaries: String, runAs: [String], options: Options) throws {
        var initdb = [
            binaries + "/initdb", "-D", directory + "/data", "-U", "postgres", "--auth=trust", "--encoding=UTF8",
            "--locale=C", "--no-instructions",
        ]
        let passwordFile = directory + "/password"
        if let password = options.password {
            try Data((password + "\n").utf8).write(to: URL(fileURLWithPath: passwordFile))
            initdb.append("--pwfile=" + passwordFile)
        }
        try run(initdb, as: runAs, log: directory + "/commands.log")
        try? FileManager.default.removeItem(atPath: passwordFile)

        var settings = ["unix_socket_directories = '\(directory)'", "listen_addresses = '127.0.0.1'"]
        if options.tls {
            try makeCertificates(in: directory + "/tls", serverKeyOwner: runAs.isEmpty ? nil : "postgres")
            settings += [
                "ssl = on", "ssl_cert_file = '\(directory)/tls/server.crt'",
                "ssl_key_file = '\(directory)/tls/server.key'",
            ]
        }
        try append(settings.joined(separator: "\n") + "\n", to: directory + "/data/postgresql.conf")

        let connection = options.tlsOnly ? "hostssl" : "host"
        let method = options.password == nil ? "trust" : "scram-sha-256"
        let rules = [
            "local all all trust",
            "\(connection) all all 127.0.0.1/32 \(method)",
            "\(connection) all all ::1/128 \(method)",
        ]
        try Data((rules.joined(separator: "\n") + "\n").utf8).write(
            to: URL(fileURLWithPath: directory + "/data/pg_hba.conf"))
    }

    /// A certificate authority, a server certificate it signs for `localhost`, and a second,
    /// unrelated authority, made with the `openssl` command line tool.
    private static func makeCertificates(in folder: String, serverKeyOwner: String?) throws {
        guard let openssl = findExecutable("openssl") else {
            throw PostgresTestDatabase.Unavailable(description: "no openssl found: install Debian's openssl package")
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let config = """
            [req]
            distinguished_name = name
            prompt = no
            [name]
            CN = unused
            [authority]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            [server]
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature, keyEncipherment
            extendedKeyUsage = serverAuth
            subjectAltName = DNS:localhost
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid

            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: folder + "/openssl.cnf"))
        let log = folder + "/openssl.log"
        let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for (name, subject) in [("ca", "swift-booking test CA"), ("other-ca", "unrelated test CA")] {
            try run(
                [openssl, "req", "-x509", "-config", folder + "/openssl.cnf", "-extensions", "authority"] + newKey
                    + [
                        "-keyout", "\(folder)/\(name).key", "-out", "\(folder)/\(name).crt", "-days", "2",
                        "-subj", "/CN=\(subject)",
                    ], as: [], log: log)
        }
        try run(
            [openssl, "req", "-new", "-config", folder + "/openssl.cnf"] + newKey
                + ["-keyout", folder + "/server.key", "-out", folder + "/server.csr", "-subj", "/CN=localhost"],
            as: [], log: log)
        try run(
            [
                openssl, "x509", "-req", "-in", folder + "/server.csr", "-CA", folder + "/ca.crt", "-CAkey",
                folder + "/ca.key", "-set_serial", "1001", "-days", "2", "-extfile", folder + "/openssl.cnf",
                "-extensions", "server", "-out", folder + "/server.crt",
            ], as: [], log: log)
        // The server refuses a key that others can read.
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: folder + "/server.key")
        if let owner = serverKeyOwner { try run(["/bin/chown", owner, folder + "/server.key"], as: [], log: log) }
    }

    private static func start(directory: String, binaries: String, runAs: [String], port: Int) throws {
        do {
            try run(
                [
                    binaries + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t",
                    "60", "-o", "-p \(port)", "start",
                ], as: runAs, log: directory + "/commands.log")
        } catch {
            throw PostgresTestDatabase.Unavailable(
                description: "the server did not start: \(error)\n" + String(serverLog(directory).suffix(2000)))
        }
    }

    private static func serverLog(_ directory: String) -> String {
        (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
    }

    private static func append(_ text: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    private static func findBinaries() -> String? {
        let candidates =
            searchPath
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).map {
                "/usr/lib/postgresql/\($0)/bin"
            }
        return candidates.first {
            FileManager.default.isExecutableFile(atPath: $0 + "/initdb")
                && FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl")
        }
    }

    private static func findExecutable(_ name: String) -> String? {
        (searchPath + ["/usr/bin", "/usr/local/bin"]).map { $0 + "/" + name }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    private static var searchPath: [String] {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
    }

    /// Runs a command and waits for it (the server it starts keeps running after `pg_ctl` exits).
    /// Its output goes to `log` (appended), whose end the error quotes when the command fails.
    private static func run(_ command: [String], as prefix: [String], log: String?) throws {
        let status: Int32
        do {
            status = try ChildProcess(prefix + command, output: log ?? "/dev/null").wait()
        } catch {
            throw PostgresTestDatabase.Unavailable(description: "could not start \(command[0])")
        }
        guard status == 0 else {
            let output = log.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
            throw PostgresTestDatabase.Unavailable(
                description: "\(command[0]) exited with status \(status)\n" + String(output.suffix(2000)))
        }
    }
}

/// Set once a cluster is destroyed or abandoned.
private final class DestroyedFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Sets the flag; whether it was set already.
    func set() -> Bool { value.exchange(true, ordering: .acquiringAndReleasing) }
}

/// An exclusive `flock` on a cluster's owner lock file (``ThrowawayCluster/ownerLockFile``), held through an open
/// descriptor until released or the process ends (there is no `deinit`: a cluster dropped without being destroyed stays
/// claimed). `flock`, not `fcntl`'s record locks, which a process loses when it closes any descriptor of the file (as a
/// reaper or a test reading it does); and close-on-exec, so that no `pg_ctl` or server this process starts inherits
/// the lock and outlives it holding it.
private final class OwnerLock: Sendable {
    private let descriptor = Mutex<Int32?>(nil)

    /// Creates the file at `path`, takes the lock (waiting while a reaper looks at the empty file) and writes this
    /// process's ID into it.
    init(claiming path: String) throws {
        let opened = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard opened >= 0 else {
            throw PostgresTestDatabase.Unavailable(description: "could not create \(path): errno \(errno)")
        }
        var locked = flock(opened, LOCK_EX)
        while locked != 0 && errno == EINTR { locked = flock(opened, LOCK_EX) }
        let text = Array("\(getpid())\n".utf8)
        guard locked == 0, text.withUnsafeBytes({ write(opened, $0.baseAddress, $0.count) }) == text.count else {
            let failure = errno
            close(opened)
            throw PostgresTestDatabase.Unavailable(description: "could not lock or write \(path): errno \(failure)")
        }
        descriptor.withLock { $0 = opened }
    }

    /// Takes the lock of an existing file at `path`, this process's user's, when no process holds it and it is not
    /// empty: its owner has ended. `nil` when the file is missing, another user's, held, or empty (a cluster being
    /// made).
    init?(ifOrphaned path: String) {
        let opened = open(path, O_RDWR | O_CLOEXEC)
        guard opened >= 0 else { return nil }
        var status = stat()
        guard flock(opened, LOCK_EX | LOCK_NB) == 0, fstat(opened, &status) == 0, status.st_size > 0,
            status.st_uid == geteuid()
        else {
            close(opened)
            return nil
        }
        descriptor.withLock { $0 = opened }
    }

    /// Lets go of the lock; does nothing the second time.
    func release() {
        descriptor.withLock { held in
            if let descriptor = held { close(descriptor) }
            held = nil
        }
    }
}
