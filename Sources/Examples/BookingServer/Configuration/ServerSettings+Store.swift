import BookingDomain
import InMemoryStore
import Logging
import PostgresStore
import SQLiteStore

extension ServerSettings.StoreSpec {
    /// Opens the store this spec names; the host runs it as a service and migrates it before serving.
    func open(logger: Logger) throws -> any BookingStore {
        switch self {
        case .memory: InMemoryStore()
        case .sqlite(let path): try SQLiteStore(location: .file(path))
        case .postgres(let url): PostgresStore(configuration: try PostgresStore.Configuration(url: url), logger: logger)
        }
    }
}
