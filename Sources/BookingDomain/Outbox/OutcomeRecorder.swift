import Synchronization

/// Records the outcomes of one pass's sends, several in one store call (a group commit).
///
/// An outcome that arrives while no call is running is recorded at once, together with those that arrive
/// before that call starts; one that arrives while a call is running waits for it and goes with the next
/// call, together with every other that arrived meanwhile. So sends that end together cost one statement
/// (``BookingStore/finish(outcomes:owner:)``) instead of one each, and each outcome waits at most for the
/// call running when it arrived, then its own.
final class OutcomeRecorder: Sendable {
    /// An outcome waiting for the next call, with the send that waits for its answer.
    private struct Queued {
        let id: Int64
        let outcome: DeliveryOutcome
        /// Resumed with whether the outcome was recorded, or with `nil` to make the next call itself; `nil` for
        /// the caller making the call.
        let waiter: CheckedContinuation<Result<Bool, BookingError>?, Never>?
    }

    private struct State {
        /// Whether a call is being made, or handed to the next caller.
        var recording = false
        var queued: [Queued] = []
    }

    private let store: any BookingStore
    private let owner: String
    private let state = Mutex(State())

    /// A recorder of the outcomes of the leases `owner` holds in `store`.
    init(store: any BookingStore, owner: String) {
        self.store = store
        self.owner = owner
    }

    /// Records the outcome of the notification `id` if the lease is still the owner's; returns whether it was
    /// recorded, or throws the store's error (for this outcome and every other of the same call).
    func record(_ outcome: DeliveryOutcome, of id: Int64) async throws(BookingError) -> Bool {
        // `nil`: no call is running, or the one that ran handed the next to this outcome: this caller makes it.
        let answer = await withCheckedContinuation {
            (waiter: CheckedContinuation<Result<Bool, BookingError>?, Never>) in
            let queued = state.withLock { state in
                guard state.recording else {
                    state.recording = true
                    return false
                }
                state.queued.append(Queued(id: id, outcome: outcome, waiter: waiter))
                return true
            }
            if !queued { waiter.resume(returning: nil) }
        }
        if let answer { return try answer.get() }
        return try await recordQueued(after: Queued(id: id, outcome: outcome, waiter: nil)).get()
    }

    /// Records `first` and everything queued in one call of the store, answers each waiter, hands the next call
    /// to the first outcome queued meanwhile (or ends the recording), and returns the answer for `first`.
    private func recordQueued(after first: Queued) async -> Result<Bool, BookingError> {
        // Sends that end at the same moment as this one are queued while this task lets them run.
        await Task.yield()
        let queued = state.withLock { state in
            defer { state.queued = [] }
            return state.queued
        }
        let batch = [first] + queued
        // A pass finishes each notification once; were one queued twice, both would get the first's answer.
        let outcomes = Dictionary(batch.map { ($0.id, $0.outcome) }, uniquingKeysWith: { first, _ in first })
        // In a task of its own: the caller's delivery may have been cancelled (its send timed out, or the pass was
        // cancelled), and a store may refuse to start work for a cancelled task; an outcome is recorded regardless.
        let recorded = await Task { [store, owner] () -> Result<Set<Int64>, BookingError> in
            do throws(BookingError) {
                return .success(try await store.finish(outcomes: outcomes, owner: owner))
            } catch {
                return .failure(error)
            }
        }.value
        for waiting in queued { waiting.waiter?.resume(returning: recorded.map { $0.contains(waiting.id) }) }
        let next = state.withLock { state -> Queued? in
            guard !state.queued.isEmpty else {
                state.recording = false
                return nil
            }
            return state.queued.removeFirst()
        }
        next?.waiter?.resume(returning: nil)
        return recorded.map { $0.contains(first.id) }
    }
}
