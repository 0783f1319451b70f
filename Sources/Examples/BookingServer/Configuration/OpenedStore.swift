import BookingDomain
import InMemoryStore
import Logging
import PostgresStore
import SQLiteStore
import ServiceLifecycle

/// A store opened from a ``ServerSettings/StoreSpec``, with what must run beside it.
struct OpenedStore: Sendable {
    let store: any BookingStore
    /// Services the store needs running (the PostgreSQL pool); start them before ``migrate()``.
    let services: [any Service]
    /// Applies pending migrations (SQLite migrates on open, so this is a no-op there).
    let migrate: @Sendable () async throws -> Void

    static func open(_ spec: ServerSettings.StoreSpec, logger: Logger) throws -> OpenedStore {
        switch spec {
        case .memory:
            return OpenedStore(store: InMemoryStore(), services: [], migrate: {})
        case .sqlite(let path):
            return OpenedStore(store: try SQLiteStore(location: .file(path)), services: [], migrate: {})
        case .postgres(let url):
            let store = PostgresStore(configuration: try PostgresStore.Configuration(url: url), logger: logger)
            return OpenedStore(store: store, services: [store.client], migrate: { try await store.migrate() })
        }
    }
}
