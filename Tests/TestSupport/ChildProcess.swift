import Foundation

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

    /// Sends `signal` (unless the child was already waited for).
    public func send(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the child to exit, on a thread of its own (see ``onOwnThread(_:)``), and returns its raw wait status
    /// (0 for a clean exit).
    public func exited() async -> Int32 {
        await onOwnThread { wait() }
    }

    /// Waits for the child to exit, blocking the calling thread, and returns its raw wait status (0 for a clean exit).
    /// For cleanup in a `defer`, which cannot await; elsewhere ``exited()``.
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return status
    }
}
