import Foundation
public import Logging
public import PostgresNIO
public import PostgresStore

/// Fresh databases on the server named by `BOOKING_POSTGRES_URL` (set by `scripts/with-postgres`).
///
/// There is no skipping: without a server every PostgreSQL test fails and says how to get one.
public enum PostgresTestDatabase {
    /// Why no test database can be had.
    public struct Unavailable: Error, CustomStringConvertible {
        /// What is missing and how to get it.
        public let description: String

        /// An error that says `description`.
        public init(description: String) { self.description = description }
    }

    /// A logger that drops everything.
    public static let logger = Logger(label: "postgres-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The server named by `BOOKING_POSTGRES_URL`, without TLS.
    public static func serverConfiguration() throws -> PostgresStore.Configuration {
        guard let url = ProcessInfo.processInfo.environment["BOOKING_POSTGRES_URL"], !url.isEmpty else {
            throw Unavailable(
                description:
                    "BOOKING_POSTGRES_URL is not set: run the tests with scripts/test or scripts/with-postgres swift test"
            )
        }
        var configuration = try PostgresStore.Configuration(url: url)
        configuration.tls = .disable
        return configuration
    }

    /// A client to the server's default database, for creating and dropping test databases.
    public static let admin: Result<PostgresClient, any Error> = Result {
        let client = PostgresClient(
            configuration: try serverConfiguration().clientConfiguration(poolSize: 4), backgroundLogger: logger)
        Task { await client.run() }
        return client
    }

    /// At most twelve test databases are open at once (each with pools of up to 8 connections, some with two or
    /// four stores): the throwaway cluster of `scripts/with-postgres` allows 300 connections.
    static let gate = TestDatabaseGate(limit: 12)

    /// Creates an empty database (in the server's default encoding, or in `encoding` with the C locale)
    /// and returns the configuration that reaches it; waits while twelve others are open (until ``drop(_:)``).
    public static func create(poolSize: Int = 8, encoding: String? = nil) async throws -> PostgresStore.Configuration {
        let admin = try admin.get()
        let name = "booking_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let options =
            encoding.map { " ENCODING '\($0)' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" } ?? ""
        var configuration = try serverConfiguration()
        await gate.enter(name)
        do {
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)\(options)"), logger: logger)
        } catch {
            await gate.leave(name)
            throw error
        }
        configuration.database = name
        configuration.poolSize = poolSize
        // The suites run in parallel on two cores with 200-task checks: the conformance checks are about
        // invariants, not latency, so waits get room here (the fault tests set tight bounds of their own).
        // A statement that queues on a slot's or a day's lock behind 200 takers counts that wait against
        // its statement timeout too, and 200 cancels of one row take turns on a pool of 8 connections.
        configuration.connectionWaitTimeout = .seconds(60)
        configuration.lockTimeout = .seconds(30)
        configuration.statementTimeout = .seconds(30)
        return configuration
    }

    /// Drops a database made by ``create(poolSize:encoding:)``, disconnecting whoever still uses it, and lets the next
    /// waiting test create one.
    public static func drop(_ configuration: PostgresStore.Configuration) async {
        guard configuration.database.hasPrefix("booking_test_"), let admin = try? admin.get() else { return }
        _ = try? await admin.query(
            PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(configuration.database) WITH (FORCE)"), logger: logger)
        await gate.leave(configuration.database)
    }

    /// Runs `open` (which opens stores on `configuration`, a database made by ``create(poolSize:encoding:)``) and
    /// drops the database when it throws: a test that cannot open its stores gives its turn back.
    public static func opening<T>(
        _ configuration: PostgresStore.Configuration, _ open: () async throws -> T
    ) async throws -> T {
        do {
            return try await open()
        } catch {
            await drop(configuration)
            throw error
        }
    }
}

/// Runs `body` with `count` independent stores (separate pools, as separate processes would have) on one
/// fresh database, then stops them and drops the database, also when `body` throws.
public func withStores(
    _ count: Int, migrate: Bool = true, encoding: String? = nil,
    _ body: @Sendable ([PostgresStore]) async throws -> Void
) async throws {
    let configuration = try await PostgresTestDatabase.create(encoding: encoding)
    try await withRunningStores(configuration, migrating: Array(repeating: migrate, count: count), body)
}

/// Runs `body` with a migrated store whose pool holds at most `poolSize` connections, and a second store on the same
/// fresh database, not migrated, for the test's own statements (so they never take the first store's connections),
/// then stops both and drops the database, also when `body` throws.
public func withStoreAndAdmin(
    poolSize: Int, _ body: @Sendable (_ store: PostgresStore, _ admin: PostgresStore) async throws -> Void
) async throws {
    let configuration = try await PostgresTestDatabase.create(poolSize: poolSize)
    try await withRunningStores(configuration, migrating: [true, false]) { stores in
        try await body(stores[0], stores[1])
    }
}

/// Runs `body` with one running store per entry of `migrating` (migrated where it says `true`) on the database of
/// `configuration`, then stops them and drops the database, also when opening a store or `body` throws.
private func withRunningStores(
    _ configuration: PostgresStore.Configuration, migrating: [Bool],
    _ body: @Sendable ([PostgresStore]) async throws -> Void
) async throws {
    var running: [RunningStore] = []
    do {
        for migrate in migrating { running.append(try await RunningStore(configuration, migrate: migrate)) }
        try await body(running.map(\.store))
    } catch {
        for store in running { await store.stop() }
        await PostgresTestDatabase.drop(configuration)
        throw error
    }
    for store in running { await store.stop() }
    await PostgresTestDatabase.drop(configuration)
}

/// A PostgreSQL store that runs (pool, listener) until ``stop()``.
public final class RunningStore: Sendable {
    /// The store, running.
    public let store: PostgresStore
    private let runner: Task<Void, Never>

    /// Opens a store on `configuration`, runs it, and migrates unless told not to.
    public init(
        _ configuration: PostgresStore.Configuration, migrate: Bool = true,
        logger: Logger = PostgresTestDatabase.logger
    ) async throws {
        store = PostgresStore(configuration: configuration, logger: logger)
        runner = Task { [store] in await store.run() }
        guard migrate else { return }
        do {
            try await store.migrate()
        } catch {
            // Stopped, so its pool does not outlive the test.
            runner.cancel()
            await runner.value
            throw error
        }
    }

    /// Stops the store and waits until it has stopped.
    public func stop() async {
        runner.cancel()
        await runner.value
    }
}

extension PostgresStore.Configuration {
    /// A plain client configuration for the same server, with at most `poolSize` connections.
    public func clientConfiguration(poolSize: Int) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
        configuration.options.maximumConnections = poolSize
        return configuration
    }
}
