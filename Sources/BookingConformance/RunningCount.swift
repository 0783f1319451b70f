import Synchronization

/// How many of a check's tasks are still running, shared by them (readers stop when the writers have).
final class RunningCount: Sendable {
    private let count: Mutex<Int>

    /// A count of `count` running tasks.
    init(_ count: Int) { self.count = Mutex(count) }

    /// How many still run.
    var value: Int { count.withLock { $0 } }

    /// One task ended.
    func decrement() { count.withLock { $0 -= 1 } }
}
