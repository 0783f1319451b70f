import Synchronization

/// The outcomes of a pass's deliveries, in the order they finish: each delivery task hands over its outcome
/// here, and the pass waits for the next one.
///
/// Unlike an `AsyncStream`, a wait here does not end when the pass is cancelled: a cancelled pass still waits
/// for every delivery it started, as a task group would.
final class FinishedSends<Outcome: Sendable>: Sendable {
    private struct State {
        var finished: [Outcome] = []
        var waiter: CheckedContinuation<Outcome, Never>?
    }

    private let state = Mutex(State())

    /// Hands over the outcome of one delivery.
    func add(_ outcome: Outcome) {
        let waiter = state.withLock { state -> CheckedContinuation<Outcome, Never>? in
            guard let waiter = state.waiter else {
                state.finished.append(outcome)
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: outcome)
    }

    /// The next outcome handed over, in order; waits for one when none is left. One caller waits at a time.
    func next() async -> Outcome {
        if let ready = state.withLock({ $0.finished.isEmpty ? nil : $0.finished.removeFirst() }) { return ready }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Outcome? in
                guard state.finished.isEmpty else { return state.finished.removeFirst() }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
