import Synchronization

/// Whether a booking's call is out and unanswered. The store's watchdog may find the connection lost at any
/// moment of the operation, and only while the call is out is the booking's outcome unknown.
final class CallPhase: Sendable {
    private let outstanding = Atomic<Bool>(false)

    /// The call is about to be written.
    func send() { outstanding.store(true, ordering: .sequentiallyConsistent) }

    /// The call is known to have stored nothing: it refused, or failed with an error of its own (which rolled it
    /// back).
    func answered() { outstanding.store(false, ordering: .sequentiallyConsistent) }

    /// What a lost connection means now: ``InsertAttempt/callLost`` while the call is out, otherwise nothing
    /// (the loss is the operation's plain failure).
    func attemptWhenLost() -> InsertAttempt? {
        outstanding.load(ordering: .sequentiallyConsistent) ? .callLost : nil
    }
}
