public import BookingDomain

/// What the migration checks need to do to a store's schema
/// (``BookingConformance/Capabilities/schemaMigrations``).
public struct SchemaHooks: Sendable {
    /// Opens `count` stores at once on one fresh, empty database, as `count` processes starting
    /// together would, each applying the migrations its own way (on open, or by `migrate()`).
    public let openTogether: @Sendable (_ count: Int) async throws -> [any BookingStore]
    /// The schema versions recorded in the database of a store opened by ``openTogether``.
    public let appliedVersions: @Sendable (any BookingStore) async throws -> [String]
    /// Records in the subject's database a schema version newer than this code knows, as a newer
    /// release of the application would have.
    public let recordNewerVersion: @Sendable () async throws -> Void
    /// Opens the subject's database again, as a restarted process would, migrations included.
    public let openAgain: @Sendable () async throws -> any BookingStore
    /// Closes what ``openTogether`` and ``openAgain`` opened; called even when the check fails.
    public let tearDown: @Sendable () async throws -> Void

    /// Describes the hooks.
    public init(
        openTogether: @escaping @Sendable (_ count: Int) async throws -> [any BookingStore],
        appliedVersions: @escaping @Sendable (any BookingStore) async throws -> [String],
        recordNewerVersion: @escaping @Sendable () async throws -> Void,
        openAgain: @escaping @Sendable () async throws -> any BookingStore,
        tearDown: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.openTogether = openTogether
        self.appliedVersions = appliedVersions
        self.recordNewerVersion = recordNewerVersion
        self.openAgain = openAgain
        self.tearDown = tearDown
    }
}
