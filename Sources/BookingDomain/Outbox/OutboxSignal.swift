import Synchronization

/// An in-process wake-up signal for dispatchers: stores without a database-level
/// notification (in-memory, SQLite) call ``signal()`` after enqueueing.
///
/// Each ``stream()`` gets every signal sent after it was made; a signal nobody waits
/// for is dropped, which is fine because dispatchers also poll.
public final class OutboxSignal: Sendable {
    private let listeners = Mutex<[Int: AsyncStream<Void>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    /// Creates a signal with no listeners.
    public init() {}

    /// A new stream of wake-ups; it ends when the consumer stops iterating.
    public func stream() -> AsyncStream<Void> {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        continuation.onTermination = { [weak self] _ in
            _ = self?.listeners.withLock { $0.removeValue(forKey: id) }
        }
        listeners.withLock { $0[id] = continuation }
        return stream
    }

    /// Wakes every listener.
    public func signal() {
        for continuation in listeners.withLock({ Array($0.values) }) { continuation.yield() }
    }
}
