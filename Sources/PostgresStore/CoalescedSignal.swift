import Synchronization

/// Coalesces requests for a signal into at most one in flight plus one queued: a burst of requests
/// while a signal is being sent costs one more send, not one per request.
final class CoalescedSignal: Sendable {
    private enum State {
        case idle
        case sending
        case sendingWithMoreRequested
    }

    private let state = Mutex(State.idle)

    /// Asks for a signal; `true` means the caller must start sending (and call ``finishedOne()``
    /// after each send until it returns `false`).
    func request() -> Bool {
        state.withLock { state in
            switch state {
            case .idle:
                state = .sending
                return true
            case .sending, .sendingWithMoreRequested:
                state = .sendingWithMoreRequested
                return false
            }
        }
    }

    /// Called after each send: `true` when more were requested meanwhile and one more send is due.
    func finishedOne() -> Bool {
        state.withLock { state in
            switch state {
            case .sendingWithMoreRequested:
                state = .sending
                return true
            case .idle, .sending:
                state = .idle
                return false
            }
        }
    }
}
