import BookingDomain
import Foundation
import InMemoryLogging
import Logging
import PostgresNIO
import PostgresStore
import TestSupport
import Testing

/// One cluster for the whole suite that serves TLS only (a certificate for `localhost` signed by a
/// throwaway authority) and logs `postgres` in with a scram-sha-256 password; destroyed when the
/// suite ends, passed or failed.
struct SecuredCluster: SuiteTrait, TestScoping {
    /// The password of `postgres`: a percent sign, an at sign, colons, a slash, a space and non-ASCII.
    static let password = "p%@ss:w/rd: 100% süß"

    @TaskLocal static var current: ThrowawayCluster?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let cluster = try await ThrowawayCluster(.init(tls: true, tlsOnly: true, password: Self.password))
        defer { cluster.destroy() }  // when the suite left early: blocks
        try await Self.$current.withValue(cluster, operation: function)
        await cluster.tearDown()
    }
}

extension Trait where Self == SecuredCluster {
    /// Runs the suite inside one ``SecuredCluster``.
    static var securedCluster: Self { SecuredCluster() }
}

@Suite("PostgreSQL sslmode and passwords against a real TLS + scram-sha-256 cluster", .securedCluster)
struct PostgresSecuredConnectionTests {
    /// `password` percent-encoded for the user-info part of a URL.
    static func encoded(_ password: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return password.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// The suite's cluster.
    var cluster: ThrowawayCluster {
        get throws {
            guard let cluster = SecuredCluster.current else {
                throw PostgresTestDatabase.Unavailable(description: "no secured cluster: the suite trait did not run")
            }
            return cluster
        }
    }

    /// A URL to the suite's cluster, as `postgres` with `password`.
    func url(host: String = "127.0.0.1", password: String = SecuredCluster.password, _ query: String) throws -> String {
        "postgres://postgres:\(Self.encoded(password))@\(host):\(try cluster.port)/postgres?\(query)"
    }

    /// Opens a store on `url`, migrates and checks its health, and returns whether the connection the
    /// server sees is encrypted.
    func connect(_ url: String) async throws -> Bool {
        var configuration = try PostgresStore.Configuration(url: url)
        configuration.poolSize = 2
        // A TLS handshake and a scram-sha-256 login on a loaded two-core machine: latency is not what
        // these tests check (the refusals below keep tight bounds).
        configuration.connectionWaitTimeout = .seconds(30)
        configuration.healthTimeout = .seconds(30)
        let running = try await RunningStore(configuration, migrate: false)
        do {
            _ = try await running.store.migrate()
            try await running.store.checkHealth()
            #expect(try await running.store.appliedMigrations() == Array(1...13))
            let rows = try await running.store.client.query(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: PostgresTestDatabase.logger)
            var encrypted: [Bool] = []
            for try await ssl in rows.decode(Bool.self) { encrypted.append(ssl) }
            await running.stop()
            return encrypted == [true]
        } catch {
            await running.stop()
            throw error
        }
    }

    /// What a refused store showed: its errors' descriptions, and what the pool logged about its
    /// failed connection attempts (the reason, which the errors do not carry).
    struct Refusal {
        let descriptions: [String]
        let connectionFailures: String
    }

    /// Opens a store on `url` and expects `checkHealth()` and `migrate()` each to fail with
    /// `storeUnavailable` within a few seconds.
    func refused(_ url: String) async throws -> Refusal {
        var configuration = try PostgresStore.Configuration(url: url)
        configuration.poolSize = 2
        configuration.connectionWaitTimeout = .seconds(3)
        configuration.connectTimeout = .seconds(2)
        let log = InMemoryLogHandler()
        // The pool logs each failed attempt at info, which it passes on to a store's logger at debug only.
        var logger = Logger(label: "refused") { _ in log }
        logger.logLevel = .debug
        let running = try await RunningStore(configuration, migrate: false, logger: logger)
        let store = running.store
        let operations: [(name: String, run: @Sendable () async throws -> Void)] = [
            ("checkHealth", { try await store.checkHealth() }), ("migrate", { _ = try await store.migrate() }),
        ]
        var descriptions: [String] = []
        for operation in operations {
            let started = ContinuousClock.now
            let error = await #expect(throws: BookingError.self, "\(operation.name)") { try await operation.run() }
            let elapsed = ContinuousClock.now - started
            #expect(error?.code == .storeUnavailable, "\(operation.name)")
            // A few seconds (the 1 s health timeout; for migrate the 3 s wait for a connection, then the probe's
            // connection, bounded by twice the 2 s connect timeout), and seconds for the load of the suites beside:
            // never a hang.
            #expect(elapsed < .seconds(15), "\(operation.name) took \(elapsed)")
            descriptions += error.map { [$0.description] } ?? []
        }
        await running.stop()
        let failures = log.entries.filter { $0.message.description == "Connection creation failed" }
        return Refusal(
            descriptions: descriptions,
            connectionFailures: failures.map { "\($0.metadata)" }.joined(separator: "\n"))
    }

    @Test("sslmode=require encrypts without checking the certificate (a self-signed authority, another name)")
    func require() async throws {
        #expect(try await connect(url("sslmode=require")))
    }

    @Test("sslmode=prefer and allow encrypt when the server offers it, without checking the certificate")
    func preferAndAllow() async throws {
        #expect(try await connect(url("sslmode=prefer")))
        #expect(try await connect(url("sslmode=allow")))
    }

    @Test("sslmode=verify-full with sslrootcert set to the authority connects to the certificate's host name")
    func verifyFull() async throws {
        let root = try cluster.caCertificatePath
        #expect(try await connect(url(host: "localhost", "sslmode=verify-full&sslrootcert=\(root)")))
    }

    @Test("verify-ca accepts a certificate for another host that verify-full refuses")
    func verifyCAIgnoresTheHostName() async throws {
        // The certificate names localhost only; 127.0.0.1 is the same server under a name it does not carry.
        let root = try cluster.caCertificatePath
        #expect(try await connect(url(host: "127.0.0.1", "sslmode=verify-ca&sslrootcert=\(root)")))
        let refusal = try await refused(url(host: "127.0.0.1", "sslmode=verify-full&sslrootcert=\(root)"))
        #expect(refusal.descriptions.count == 2)
        #expect(refusal.connectionFailures.contains("failedToValidateHostname"), "\(refusal.connectionFailures)")
    }

    @Test(
        "verify-ca and verify-full refuse a certificate that the trusted authorities did not sign",
        arguments: ["verify-ca", "verify-full"], [false, true])
    func untrustedAuthority(_ mode: String, _ system: Bool) async throws {
        // Either the system's trust store (no sslrootcert) or an unrelated authority's certificate.
        let root = system ? "" : "&sslrootcert=\(try cluster.otherCACertificatePath)"
        let refusal = try await refused(url(host: "localhost", "sslmode=\(mode)\(root)"))
        #expect(refusal.descriptions.count == 2)
        #expect(refusal.connectionFailures.contains("CERTIFICATE_VERIFY_FAILED"), "\(refusal.connectionFailures)")
    }

    @Test("sslmode=disable is refused by a server that accepts TLS connections only")
    func disableAgainstTLSOnly() async throws {
        #expect(try await connect(url("sslmode=require")))
        let refusal = try await refused(url("sslmode=disable"))
        #expect(refusal.descriptions.count == 2)
        // 28000: no pg_hba.conf line lets an unencrypted connection in.
        #expect(refusal.connectionFailures.contains("sqlState: 28000"), "\(refusal.connectionFailures)")
    }

    @Test("scram-sha-256 login with a percent-encoded password holding %, @, :, / and non-ASCII")
    func passwordLogin() async throws {
        let url = try url("sslmode=require")
        #expect(url.contains("p%25%40ss%3Aw%2Frd%3A%20100%25%20s%C3%BC%C3%9F"))
        #expect(try PostgresStore.Configuration(url: url).password == SecuredCluster.password)
        #expect(try await connect(url))
    }

    @Test("a wrong password fails with storeUnavailable; the error shows neither password nor SQL")
    func wrongPassword() async throws {
        let wrong = "p%@ss:w/rd: 100% sü"
        let refusal = try await refused(url(password: wrong, "sslmode=require"))
        #expect(refusal.descriptions.count == 2)
        // 28P01: invalid_password.
        #expect(refusal.connectionFailures.contains("sqlState: 28P01"), "\(refusal.connectionFailures)")
        let secrets = [wrong, Self.encoded(wrong), SecuredCluster.password, Self.encoded(SecuredCluster.password)]
        for text in refusal.descriptions + [refusal.connectionFailures] {
            for secret in secrets { #expect(!text.contains(secret), "\(text)") }
        }
        for description in refusal.descriptions {
            for sql in ["SELECT", "CREATE", "pg_advisory", "INSERT"] {
                #expect(!description.contains(sql), "\(description)")
            }
        }
    }
}
