import NIOCore
import PostgresNIO
import Synchronization

/// Runs an operation on a pooled connection with a client-side deadline on the wait for the
/// connection, and a safety net for a connection that dies under the operation.
///
/// One lock decides every outcome, first come first served: the operation taking its connection
/// before the deadline (it then runs to its end, bounded by the server), the deadline passing first
/// (the operation never touches the database, even if a connection arrives a moment later), the
/// operation ending, or the held connection being found dead (it is closed, so nothing more can be
/// written on it: a query in flight fails and no later `COMMIT` is sent).
enum ConnectionLease {
    /// How the wait ended.
    enum Verdict: Sendable {
        /// No connection came in time; nothing reached the database.
        case abandoned
        /// The held connection died or the operation outlived every server bound; the connection was closed.
        case lost
        /// The operation ended; its outcome is the answer.
        case finished
    }

    /// The one decision, and the continuation that learns it.
    final class Race: Sendable {
        private enum State {
            case waiting
            case holding(PostgresConnection)
            case decided
        }

        private struct Guarded {
            var state = State.waiting
            var continuation: CheckedContinuation<Verdict, Never>?
            var verdict: Verdict?
        }

        private let guarded = Mutex(Guarded())

        /// The operation got `connection`: `true` if it may use it (nothing was decided yet).
        func take(_ connection: PostgresConnection) -> Bool {
            guarded.withLock { guarded in
                guard case .waiting = guarded.state else { return false }
                guarded.state = .holding(connection)
                return true
            }
        }

        /// The connection the operation holds, if it holds one and nothing was decided.
        var heldConnection: PostgresConnection? {
            guarded.withLock { guarded in
                if case .holding(let connection) = guarded.state { return connection }
                return nil
            }
        }

        /// The operation ended (with or without a connection): `false` when something else was decided first.
        @discardableResult
        func finish() -> Bool { decide(.finished, allowedWhileWaiting: true, allowedWhileHolding: true) }

        /// The deadline passed: abandons the wait if no connection was taken yet.
        func abandon() { decide(.abandoned, allowedWhileWaiting: true, allowedWhileHolding: false) }

        /// The held connection is dead: closes it and gives up on the operation.
        func lose() {
            let connection: PostgresConnection? = guarded.withLock { guarded in
                if case .holding(let connection) = guarded.state { return connection }
                return nil
            }
            guard let connection else { return }
            if decide(.lost, allowedWhileWaiting: false, allowedWhileHolding: true) {
                let _: EventLoopFuture<Void> = connection.close()
            }
        }

        /// Waits for the verdict.
        func verdict() async -> Verdict {
            await withCheckedContinuation { continuation in
                let ready: Verdict? = guarded.withLock { guarded in
                    if let verdict = guarded.verdict { return verdict }
                    guarded.continuation = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }

        @discardableResult
        private func decide(_ verdict: Verdict, allowedWhileWaiting: Bool, allowedWhileHolding: Bool) -> Bool {
            let continuation: CheckedContinuation<Verdict, Never>?? = guarded.withLock { guarded in
                switch guarded.state {
                case .waiting where allowedWhileWaiting, .holding where allowedWhileHolding:
                    guarded.state = .decided
                    guarded.verdict = verdict
                    defer { guarded.continuation = nil }
                    return .some(guarded.continuation)
                default:
                    return .none
                }
            }
            guard let continuation else { return false }
            continuation?.resume(returning: verdict)
            return true
        }
    }

    /// A wait for a connection that ran out of time; nothing was sent to the database.
    struct WaitTimedOut: Error {
        let wait: Duration
    }

    /// The pool handed over a connection the server had already closed, or one whose prepared statement
    /// failed to prepare: the operation may run again on another connection (nothing was sent, or nothing
    /// that a second run would not repeat harmlessly: see `PostgresStore.verifyClaimStatements(on:)`).
    struct StaleConnection: Error {}

    /// An operation that held a connection which died under it, or that outlived every bound the
    /// server sets: the connection was closed. Its outcome is unknown only if `COMMIT` was already
    /// written when the connection died.
    struct ConnectionLost: Error {
        let after: Duration
    }

    /// Runs `body` on a connection of `client`, or throws ``WaitTimedOut`` when none came within `wait`, which
    /// includes waiting for `start` to open (the client to run).
    ///
    /// The operation runs in a task of its own, so an abandoned wait answers at once even if the
    /// pool is slow to withdraw the request; a connection that arrives after the deadline goes back
    /// to the pool unused. `watchdog` abandons the wait within one ``ConnectionWatchdog/round`` (100 ms)
    /// of its deadline, and from then on, while the operation holds its connection, checks it every
    /// round: closed for half a second, or held longer than `hold` (when given) after that deadline, it
    /// is lost.
    static func run<T: Sendable>(
        on client: PostgresClient, after start: PoolStartGate, watchedBy watchdog: ConnectionWatchdog,
        waitingAtMost wait: Duration,
        holdingAtMost hold: Duration?, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let race = Race()
        let deadline = ContinuousClock.now + wait
        let operation = Task {
            // Ends the race when no connection was taken (the gate or the pool failed).
            defer { race.finish() }
            try await start.waitUntilOpen()
            return try await client.withConnection { connection in
                // Something was decided while the pool was handing this connection over: give it back unused.
                guard race.take(connection) else { throw WaitTimedOut(wait: wait) }
                let result: Result<T, any Error>
                if connection.isClosed {
                    // A connection the server already closed would swallow the query (PostgresNIO never
                    // answers a query written to a closed channel): nothing is sent on it.
                    result = .failure(StaleConnection())
                } else {
                    do { result = .success(try await body(connection)) } catch { result = .failure(error) }
                }
                // Ended before `withConnection` gives the connection back, from when the pool may hand it to another
                // operation. Lost meanwhile, it is being closed: the pool gets it back only once it is closed, never
                // open under another operation that the late close would cut off.
                if !race.finish() { try? await connection.close() }
                return try result.get()
            }
        }
        let watch = watchdog.watch(race, deadline: deadline, hold: hold)
        let verdict = await withTaskCancellationHandler {
            await race.verdict()
        } onCancel: {
            operation.cancel()
        }
        watchdog.stopWatching(watch)
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
}
