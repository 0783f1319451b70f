public import BookingDomain
import BookingTesting
public import Foundation

/// The conformance suite every `BookingStore` must pass: ours and yours.
///
/// Give it a factory of fresh, empty stores and run each check; a broken invariant throws a
/// ``ConformanceFailure`` naming the check. It imports no test framework, so any runner works:
///
/// ```swift
/// import BookingConformance
/// import Testing
///
/// let suite = BookingConformance { StoreUnderTest(store: MyStore()) }
///
/// @Test(arguments: suite.checks)
/// func conformance(_ check: ConformanceCheck) async throws {
///     try await suite.run(check)
/// }
/// ```
public struct BookingConformance: Sendable {
    /// What a store can do beyond the protocol; checks that need a missing capability are not run.
    public struct Capabilities: OptionSet, Sendable {
        /// The store keeps its data across close and reopen (``StoreUnderTest/reopen`` is set).
        public static let reopen = Capabilities(rawValue: 1 << 0)
        /// The store has a versioned schema that it migrates (``StoreUnderTest/schema`` is set).
        public static let schemaMigrations = Capabilities(rawValue: 1 << 1)

        /// The raw bits.
        public let rawValue: Int
        /// Creates a set from raw bits.
        public init(rawValue: Int) { self.rawValue = rawValue }
    }

    /// How many tasks the concurrency checks start at once.
    public let concurrency: Int

    /// The capabilities the store under test claims.
    public let capabilities: Capabilities
    /// The instant each check starts at; every check gets its own `ManualWallClock` (BookingTesting)
    /// set to it, so checks that move time can run in parallel.
    public let start: Date
    let makeStore: @Sendable () async throws -> StoreUnderTest

    /// Creates the suite.
    /// - Parameters:
    ///   - capabilities: what the store can do beyond the protocol.
    ///   - concurrency: how many tasks the concurrency checks start at once; 200 by default.
    ///   - start: the instant the checks' clocks start at; 2027-03-01T08:00:00Z by default.
    ///   - makeStore: makes a fresh, empty store for each check.
    public init(
        capabilities: Capabilities = [], concurrency: Int = 200,
        start: Date = Date(millisecondsSince1970: 1_803_888_000_000),
        makeStore: @escaping @Sendable () async throws -> StoreUnderTest
    ) {
        self.capabilities = capabilities
        self.concurrency = max(2, concurrency)
        self.start = start.roundedToMilliseconds
        self.makeStore = makeStore
    }

    /// The checks that apply to this store's capabilities.
    public var checks: [ConformanceCheck] { ConformanceCheck.all.filter { $0.isApplicable(to: capabilities) } }

    /// Runs one check on a fresh store, tearing it down (its schema hooks' `tearDown`, then its own) afterwards,
    /// once, even on failure.
    ///
    /// Throws ``ConformanceFailure`` when the store breaks the invariant, or when it throws a `BookingError` where
    /// the check expects an answer (the message names it); any other error (the factory's, a hook's, a cancellation,
    /// the teardown's) as it is.
    public func run(_ check: ConformanceCheck) async throws {
        guard check.isApplicable(to: capabilities) else {
            throw ConformanceFailure(check: check, message: "the store lacks a capability this check needs")
        }
        let subject = try await makeStore()
        let context = CheckContext(
            check: check, subject: subject, clock: ManualWallClock(now: start), concurrency: concurrency)
        do {
            try await context.run()
        } catch {
            try? await subject.schema?.tearDown()
            try? await subject.tearDown()
            if let error = error as? BookingError {
                throw ConformanceFailure(
                    check: check, message: "the store threw where the check expects an answer: \(error)")
            }
            throw error
        }
        // Both teardowns run; the first of their errors is thrown.
        var teardownError: (any Error)?
        do { try await subject.schema?.tearDown() } catch { teardownError = error }
        do { try await subject.tearDown() } catch { teardownError = teardownError ?? error }
        if let teardownError { throw teardownError }
    }

    /// Runs every applicable check, stopping at the first failure.
    public func runAll() async throws {
        for check in checks { try await run(check) }
    }
}
