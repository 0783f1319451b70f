import Synchronization

/// A gate that tasks wait at until it is opened (polling every 5 ms: the tests wait for events, not speeds).
public final class Gate: Sendable {
    private let isOpen = Atomic<Bool>(false)

    /// A closed gate.
    public init() {}

    /// Opens the gate: every wait ends.
    public func open() { isOpen.store(true, ordering: .releasing) }

    /// Waits until the gate is open.
    public func passed() async {
        while !isOpen.load(ordering: .acquiring) { try? await Task.sleep(for: .milliseconds(5)) }
    }
}
