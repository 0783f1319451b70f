public import BookingDomain

/// A fresh, empty store handed to one conformance check, with what the check may do to it.
public struct StoreUnderTest: Sendable {
    /// The store to check.
    public let store: any BookingStore
    /// Closes `store` and opens the same data again; `nil` for stores that keep nothing across a close.
    public let reopen: (@Sendable () async throws -> any BookingStore)?
    /// Releases what the store holds (files, schemas, connections); called even when the check fails.
    public let tearDown: @Sendable () async throws -> Void
    /// What the migration checks do to the schema; `nil` for stores without a versioned schema.
    public let schema: SchemaHooks?

    /// Describes a store for one check.
    public init(
        store: any BookingStore, reopen: (@Sendable () async throws -> any BookingStore)? = nil,
        schema: SchemaHooks? = nil, tearDown: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.store = store
        self.reopen = reopen
        self.schema = schema
        self.tearDown = tearDown
    }
}
