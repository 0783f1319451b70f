import Foundation

/// Runs `work` on a thread of its own and awaits its result.
///
/// For work that blocks its thread until something outside the process happens: a child process exits, a pipe
/// closes, `pg_ctl` waits for a server. Swift concurrency has one cooperative thread per core (two on the CI
/// machine); a test blocking one of them for a second or more holds back the tasks of every test running beside it,
/// and the deadlines those tests measure.
public func onOwnThread<Value: Sendable, Failure: Error>(
    _ work: @escaping @Sendable () throws(Failure) -> Value
) async throws(Failure) -> Value {
    let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, Failure>, Never>) in
        Thread { continuation.resume(returning: Result { () throws(Failure) in try work() }) }.start()
    }
    return try result.get()
}
