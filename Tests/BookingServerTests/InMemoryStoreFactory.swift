import BookingDomain
import InMemoryStore

/// A fresh in-memory store, for tests that need no teardown.
enum InMemoryStoreFactory {
    static func make() -> any BookingStore { InMemoryStore() }
}
