import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// Why the store cannot connect, in words an operator can act on: one connection opened directly, as the pool would
/// open it, and its failure named by kind.
///
/// The pool only times out waiting for a connection; the cause (a wrong password, a missing database, nothing
/// listening) is in its own log lines at `info`, which the store passes on at `debug` only. A start that fails says
/// it in its one line instead (`migrate()`), and an outage later has it logged once a minute
/// (`PostgresStore.explainUnreachable()`). The cause never holds the password or a server's message text, only the
/// host, port, user and database, which are no secrets.
enum ConnectionProbe {
    /// Opens one connection with `configuration`'s target, credentials and TLS, within its connect timeout (and as
    /// long again for the server to answer its start-up), and closes it: `nil` when it connects, else why it did not.
    static func failure(of configuration: PostgresStore.Configuration, logger: Logger) async -> String? {
        let target = "\(configuration.host):\(configuration.port)"
        let limit = configuration.connectTimeout * 2
        return await withTaskGroup(of: String??.self) { group in
            group.addTask { await attempt(configuration, target: target, logger: logger) }
            group.addTask {
                // A server that accepts the socket and never answers (a frozen postmaster) ends here.
                try? await Task.sleep(for: limit)
                return .some("no answer from \(target) within \(limit)")
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? nil
        }
    }

    private static func attempt(
        _ configuration: PostgresStore.Configuration, target: String, logger: Logger
    ) async -> String? {
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch configuration.tls {
            case .disable: tls = .disable
            case .allow, .prefer: tls = .prefer(try NIOSSLContext(configuration: configuration.clientTLSConfiguration))
            case .require, .verifyCA, .verifyFull:
                tls = .require(try NIOSSLContext(configuration: configuration.clientTLSConfiguration))
            }
        } catch {
            return "its TLS settings cannot be used (a root certificate file that cannot be read?)"
        }
        var connection = PostgresConnection.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database, tls: tls)
        let (seconds, attoseconds) = configuration.connectTimeout.components
        connection.options.connectTimeout = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        do {
            let opened = try await PostgresConnection.connect(configuration: connection, id: 0, logger: logger)
            try? await opened.close()
            return nil
        } catch {
            return cause(
                of: error, target: target, username: configuration.username, database: configuration.database,
                connectTimeout: configuration.connectTimeout)
        }
    }

    /// The words for a failed connection's `error`.
    static func cause(
        of error: any Error, target: String, username: String, database: String, connectTimeout: Duration
    ) -> String {
        if let psql = error as? PSQLError {
            if let state = psql.serverInfo?[.sqlState] {
                switch state {
                case "28P01": return "PostgreSQL at \(target) refused the password of user '\(username)' (28P01)"
                case "28000":
                    return
                        "PostgreSQL at \(target) refused user '\(username)' (28000: no such role, or pg_hba.conf lets it not in)"
                case "3D000": return "PostgreSQL at \(target) has no database '\(database)' (3D000)"
                case "53300": return "PostgreSQL at \(target) has no connection left (53300: too many connections)"
                case "57P03": return "PostgreSQL at \(target) is starting up or shutting down (57P03)"
                default: return "PostgreSQL at \(target) refused the connection (SQLSTATE \(state))"
                }
            }
            switch psql.code {
            case .sslUnsupported: return "PostgreSQL at \(target) offers no TLS, which the configured sslmode requires"
            case .failedToAddSSLHandler: return "the TLS handshake with \(target) could not start"
            case .authMechanismRequiresPassword:
                return "PostgreSQL at \(target) asks user '\(username)' for a password, and none is configured"
            case .unsupportedAuthMechanism:
                return "PostgreSQL at \(target) asks for an authentication method PostgresNIO does not support"
            case .saslError: return "the SCRAM authentication of user '\(username)' with \(target) failed"
            case .connectionError:
                if let underlying = psql.underlying {
                    return cause(of: underlying, target: target, connectTimeout: connectTimeout)
                }
            default: break
            }
            return "the connection to \(target) failed"
        }
        return cause(of: error, target: target, connectTimeout: connectTimeout)
    }

    /// The words for a failure below PostgreSQL's protocol: the network, name resolution, TLS.
    private static func cause(of error: any Error, target: String, connectTimeout: Duration) -> String {
        if let failed = error as? NIOConnectionError {
            if failed.connectionErrors.isEmpty, failed.dnsAError != nil || failed.dnsAAAAError != nil {
                return "the host of \(target) cannot be resolved"
            }
            if let first = failed.connectionErrors.first?.error {
                return cause(of: first, target: target, connectTimeout: connectTimeout)
            }
        }
        if let failed = error as? IOError {
            return failed.errnoCode == ECONNREFUSED
                ? "nothing accepts connections at \(target) (connection refused)"
                : "the connection to \(target) failed: \(String(cString: strerror(failed.errnoCode)))"
        }
        if case ChannelError.connectTimeout = error { return "no answer from \(target) within \(connectTimeout)" }
        if error is NIOSSLError || error is BoringSSLError { return "the TLS handshake with \(target) failed" }
        return "the connection to \(target) failed"
    }
}
