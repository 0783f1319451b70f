import PostgresNIO
import Synchronization

/// Runs an operation on a pooled connection with a client-side deadline on the wait for the
/// connection, and a much later safety net for a connection that dies under the operation.
///
/// Whoever moves first decides, under one lock: either the operation gets its connection before the
/// deadline (and then runs to its end, however long the server lets it take), or the deadline passes
/// first (and the operation never touches the database, even if a connection arrives a moment later).
enum ConnectionLease {
    /// Who moved first: the operation taking its connection, or the deadline abandoning the wait.
    private final class Race: Sendable {
        private enum State {
            case waiting
            case holding
            case abandoned
        }

        private let state = Mutex(State.waiting)
        private let held = Mutex<PostgresConnection?>(nil)

        /// The operation got `connection`: `true` if it may use it (the deadline has not passed).
        func take(_ connection: PostgresConnection) -> Bool {
            held.withLock { $0 = connection }
            return settle(as: .holding)
        }

        /// Whether the connection the operation holds has closed under it.
        var connectionClosed: Bool { held.withLock { $0?.isClosed ?? false } }

        /// The deadline passed: `true` if the wait is abandoned (no connection was taken yet).
        func abandon() -> Bool { settle(as: .abandoned) }

        private func settle(as outcome: State) -> Bool {
            state.withLock { state in
                guard case .waiting = state else { return false }
                state = outcome
                return true
            }
        }
    }

    /// A wait for a connection that ran out of time; nothing was sent to the database.
    struct WaitTimedOut: Error {
        let wait: Duration
    }

    /// An operation that held a connection and never ended: the connection died under it (PostgresNIO
    /// does not always fail a query written to a connection that just closed). Its outcome is unknown;
    /// with single-statement writes it committed only if the statement reached a live server.
    struct ConnectionLost: Error {
        let after: Duration
    }

    /// Runs `body` on a connection of `client`, or throws ``WaitTimedOut`` when none came within `wait`.
    ///
    /// The operation runs in a task of its own, so an abandoned wait answers at once even if the
    /// pool is slow to withdraw the request; a connection that arrives after the deadline goes back
    /// to the pool unused.
    static func run<T: Sendable>(
        on client: PostgresClient, waitingAtMost wait: Duration, holdingAtMost hold: Duration?,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let race = Race()
        let operation = Task {
            try await client.withConnection { connection in
                // The deadline passed while the pool was handing this connection over: give it back unused.
                guard race.take(connection) else { throw WaitTimedOut(wait: wait) }
                // A connection the server already closed would swallow the query (PostgresNIO never
                // answers a query written to a closed channel): nothing is sent on it.
                guard !connection.isClosed else { throw ConnectionLost(after: .zero) }
                return try await body(connection)
            }
        }
        let verdict = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Verdict, Never>) in
                let once = ResumeOnce(continuation)
                let watchdog = Task {
                    try? await Task.sleep(for: wait)
                    if race.abandon() {
                        once.resume(.abandoned)
                        return
                    }
                    // The operation holds a connection; the server bounds each statement, so an
                    // operation still running long after that has lost its server or its connection.
                    // A connection seen closed gets a short grace for the normal error to arrive.
                    guard let hold else { return }
                    let deadline = ContinuousClock.now + hold
                    var closedSince: ContinuousClock.Instant?
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(100))
                        let now = ContinuousClock.now
                        if race.connectionClosed { closedSince = closedSince ?? now }
                        if now >= deadline || closedSince.map({ now - $0 >= .milliseconds(500) }) == true {
                            if !Task.isCancelled { once.resume(.lost) }
                            return
                        }
                    }
                }
                Task {
                    _ = await operation.result
                    watchdog.cancel()
                    once.resume(.finished)
                }
            }
        } onCancel: {
            operation.cancel()
        }
        switch verdict {
        case .abandoned:
            operation.cancel()
            throw WaitTimedOut(wait: wait)
        case .lost:
            operation.cancel()
            throw ConnectionLost(after: hold ?? .zero)
        case .finished:
            return try await operation.value
        }
    }

    /// How a wait ended.
    private enum Verdict {
        /// No connection came in time; nothing reached the database.
        case abandoned
        /// The operation held a connection but did not end long after the server's own bounds.
        case lost
        /// The operation ended; its outcome is the answer.
        case finished
    }

    /// Resumes a continuation once, with the first value offered.
    private final class ResumeOnce: Sendable {
        private let continuation: Mutex<CheckedContinuation<Verdict, Never>?>

        init(_ continuation: CheckedContinuation<Verdict, Never>) { self.continuation = Mutex(continuation) }

        func resume(_ value: Verdict) {
            let first = continuation.withLock { stored in
                defer { stored = nil }
                return stored
            }
            first?.resume(returning: value)
        }
    }
}
