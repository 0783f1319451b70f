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

    /// Which of a child's output streams goes to a pipe the test reads.
    public enum PipedStream: Sendable {
        /// Standard output; standard error goes to the `output` file.
        case standardOutput
        /// Standard error; standard output goes to the `output` file.
        case standardError
    }

    /// The reading end of the piped stream, when one was piped; reading it ends once the child has exited.
    public let piped: FileHandle?

    /// Starts `command` (an absolute path, then its arguments) with the test's environment plus `environment`, less
    /// the variables `removing` names; standard output and error are appended to `output`, but for the stream
    /// `piping` names, which is read through ``piped``.
    public init(
        _ command: [String], environment: [String: String] = [:], removing: (String) -> Bool = { _ in false },
        output: String = "/dev/null", piping: PipedStream? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Close-on-exec, so that no other child holds the writing end open (the reader would never see the end);
        // `dup2` gives this child its stream without the flag.
        var ends: [Int32] = [-1, -1]
        if let piping {
            guard closeOnExecPipe(&ends) else {
                throw SpawnFailure(description: "could not make a pipe for \(command[0])")
            }
            posix_spawn_file_actions_adddup2(&actions, ends[1], piping == .standardOutput ? 1 : 2)
        }
        let argv = command.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }.filter { !removing($0.key) }
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for entry in envp { free(entry) } }
        var pid: pid_t = 0
        let spawned = spawning.withLock { _ in posix_spawn(&pid, command[0], &actions, nil, argv, envp) }
        if piping != nil { close(ends[1]) }
        guard spawned == 0 else {
            if piping != nil { close(ends[0]) }
            throw SpawnFailure(description: "could not start \(command[0])")
        }
        self.pid = pid
        piped = piping == nil ? nil : FileHandle(fileDescriptor: ends[0], closeOnDealloc: true)
    }

    /// Sends `signal`, unless the child was already waited for (its process id may belong to another process now).
    public func send(_ signal: Int32) {
        if reaped.status == nil { kill(pid, signal) }
    }

    /// Whether the child has not exited yet (checked without blocking; an exit found here is recorded as if waited
    /// for).
    public var isRunning: Bool {
        if reaped.status != nil { return false }
        var status: Int32 = 0
        switch waitpid(pid, &status, WNOHANG) {
        case 0: return true
        case pid:
            reaped.status = status
            return false
        default:
            // ECHILD: another thread's wait() reaped it (EINTR cannot happen without blocking).
            return false
        }
    }

    /// The exit code in a raw wait `status` (as ``wait()`` returns it), or 128 plus the signal that ended the child.
    public static func exitCode(of status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
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

/// Held while a pipe is made and while a child is spawned: a pipe's ends are marked close-on-exec just after they
/// are made (Glibc's module has no `pipe2`), and no child spawned by another test in between inherits them.
private let spawning = Mutex(())

/// Makes a pipe whose two ends are closed on exec.
private func closeOnExecPipe(_ ends: inout [Int32]) -> Bool {
    spawning.withLock { _ in
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return true
    }
}
