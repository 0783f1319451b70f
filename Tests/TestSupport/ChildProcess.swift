import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started with `posix_spawn` (Foundation's `Process` cannot leave a daemon behind
/// or be waited for by pid alone), for test servers and the tools that set them up.
public struct ChildProcess: Sendable {
    /// Why a child could not be started.
    public struct SpawnFailure: Error, CustomStringConvertible {
        /// Which command, and what went wrong.
        public let description: String
    }

    /// The child's process id.
    public let pid: pid_t
    /// The child's raw wait status once it was waited for; shared by the copies of this value.
    private let reaped = ReapedStatus()

    /// Starts `command` (an absolute path, then its arguments) with the test's environment plus
    /// `environment`; standard output and error are appended to `output`.
    public init(_ command: [String], environment: [String: String] = [:], output: String = "/dev/null") throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = command.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for entry in envp { free(entry) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, command[0], &actions, nil, argv, envp) == 0 else {
            throw SpawnFailure(description: "could not start \(command[0])")
        }
        self.pid = pid
    }

    /// Sends `signal`, unless the child was already waited for (its process id may belong to another process now).
    public func send(_ signal: Int32) {
        if reaped.status == nil { kill(pid, signal) }
    }

    /// Waits for the child to exit, on a thread of its own (see ``onOwnThread(_:)``), and returns its raw wait status
    /// (0 for a clean exit).
    public func exited() async -> Int32 {
        await onOwnThread { wait() }
    }

    /// Waits for the child to exit, blocking the calling thread, and returns its raw wait status (0 for a clean exit).
    /// Once the child was waited for, returns at once: a `defer` that cleans up after a test which already awaited
    /// ``exited()`` does not block. Elsewhere ``exited()``.
    public func wait() -> Int32 {
        var echildren = 0
        while true {
            if let status = reaped.status { return status }
            var status: Int32 = 0
            if waitpid(pid, &status, 0) == pid {
                reaped.status = status
                return status
            }
            // EINTR: again. ECHILD: another thread reaped it and is about to record the status (or, after a second
            // of that, it was never a child of this process).
            if errno == ECHILD {
                echildren += 1
                if echildren > 1000 { return -1 }
                usleep(1000)
            }
        }
    }
}

/// A child's wait status, recorded once it was reaped.
private final class ReapedStatus: Sendable {
    private let value = Mutex<Int32?>(nil)

    var status: Int32? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
