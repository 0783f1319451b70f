import BookingDomain
import Synchronization

/// Answers within a deadline for operations whose late outcome may be dropped (they change nothing).
enum Deadline {
    /// The outcome of `task`, or `storeUnavailable` once `timeout` has passed; a late task is left
    /// to finish on its own and its outcome is ignored.
    static func answer<Value: Sendable>(within timeout: Duration, from task: Task<Value, any Error>)
        async throws(BookingError) -> Value
    {
        let outcome: Result<Value, BookingError> = await withCheckedContinuation { continuation in
            let once = ResumeOnce(continuation)
            Task { once.resume(with: await task.result.mapError { $0 as? BookingError ?? .storeUnavailable() }) }
            Task {
                try? await Task.sleep(for: timeout)
                once.resume(with: .failure(.storeUnavailable("the database did not answer within \(timeout)")))
            }
        }
        return try outcome.get()
    }

    /// Resumes a continuation with the first result offered and ignores the rest.
    private final class ResumeOnce<Value: Sendable>: Sendable {
        private let continuation: Mutex<CheckedContinuation<Result<Value, BookingError>, Never>?>

        init(_ continuation: CheckedContinuation<Result<Value, BookingError>, Never>) {
            self.continuation = Mutex(continuation)
        }

        func resume(with result: Result<Value, BookingError>) {
            let first = continuation.withLock { stored in
                defer { stored = nil }
                return stored
            }
            first?.resume(returning: result)
        }
    }
}
