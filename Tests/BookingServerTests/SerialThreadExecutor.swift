import Foundation

/// A task executor that runs its jobs one at a time, in order, on a thread of its own that lives as long as the
/// process.
final class SerialThreadExecutor: TaskExecutor, @unchecked Sendable {
    /// The one executor of the ``CPUBoundTrait`` suites.
    static let cpuBoundTests = SerialThreadExecutor(name: "cpu-bound tests")

    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var jobs: [UnownedJob] = []

    /// Starts the thread, named `name` (at most 15 bytes, as Linux shows it in `ps -L` and `perf`).
    init(name: String) {
        Thread { [self] in
            Thread.current.name = String(decoding: name.utf8.prefix(15), as: UTF8.self)
            runJobs()
        }.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func runJobs() -> Never {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
