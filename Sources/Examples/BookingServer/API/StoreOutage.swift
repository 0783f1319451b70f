import Synchronization

/// Whether the store is in an outage, as the API's answers tell: the first request answered 503 starts one, and the
/// next API request the store answers with a success ends it. The first 503 of an outage is logged as a warning, the rest at debug,
/// so an outage under load writes one warning, not one per request.
final class StoreOutage: Sendable {
    private let ongoing = Atomic<Bool>(false)

    /// Whether this 503 starts an outage (none was going on).
    func begins() -> Bool { !ongoing.exchange(true, ordering: .relaxed) }

    /// The store answered a request: any outage is over. (A 503 that lands between the check and the store is folded
    /// into the outage that ends: at worst the next 503 warns once more.)
    func ends() {
        if ongoing.load(ordering: .relaxed) { ongoing.store(false, ordering: .relaxed) }
    }
}
