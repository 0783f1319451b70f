import Testing

/// Runs a suite's tests on a thread of their own, shared by every `.cpuBound` suite, instead of on Swift
/// concurrency's cooperative threads.
///
/// For suites whose tests compute for seconds without awaiting: the settings suites parse hundreds of command
/// lines, each costing tens of milliseconds in a debug build (swift-argument-parser checks its definitions at every
/// parse there); the request-body and instant suites read thousands of generated inputs. Swift concurrency has one
/// cooperative thread per core (two on the CI machine) and never preempts a job, so while two such tests held them
/// no other test's task ran for seconds at a time, and the leases and deadlines the timing tests measure lapsed (CI
/// failed so on `1a171e2`). On the thread of ``SerialThreadExecutor`` these suites run one test case at a time and
/// take at most one core, shared through the kernel's scheduler, which lets a woken task's thread in promptly.
///
/// A test under this trait must not block its thread synchronously (a semaphore, a lock) until another task runs: a
/// child task inherits the executor and would queue behind the blocked test for ever. Awaiting is fine.
struct CPUBoundTrait: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // Recursive: called for each case of each test function of the suite, never for the suite itself.
        try await withTaskExecutorPreference(SerialThreadExecutor.cpuBoundTests) { try await function() }
    }
}

extension Trait where Self == CPUBoundTrait {
    /// Runs the suite's tests on the thread the `.cpuBound` suites share: see ``CPUBoundTrait``.
    static var cpuBound: Self { Self() }
}
