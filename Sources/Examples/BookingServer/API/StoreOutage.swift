import Synchronization

/// Whether the store is in an outage, as answers tell: the first failure (a request answered 503, a readiness check
/// that failed) starts one, and the next success ends it. The first failure of an outage is logged as a warning, the
/// rest at debug, and its end as a notice, so an outage under load, or probed every second, writes two lines, not
/// one per request.
final class StoreOutage: Sendable {
    private let ongoing = Atomic<Bool>(false)

    /// Whether this 503 starts an outage (none was going on).
    func begins() -> Bool { !ongoing.exchange(true, ordering: .relaxed) }

    /// The store answered: any outage is over. `true` when this ends one. (A failure that lands between the check
    /// and the store is folded into the outage that ends: at worst the next failure warns once more.)
    @discardableResult
    func ends() -> Bool {
        guard ongoing.load(ordering: .relaxed) else { return false }
        return ongoing.exchange(false, ordering: .relaxed)
    }
}
