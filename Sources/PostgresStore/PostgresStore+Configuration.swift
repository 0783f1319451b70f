public import BookingDomain
import Foundation
import NIOSSL
import PostgresNIO

extension PostgresStore {
    /// Where the server is and how to use it.
    ///
    /// ```swift
    /// let configuration = try PostgresStore.Configuration(
    ///     url: "postgres://booking:secret@db:5432/booking?sslmode=verify-full&sslrootcert=/etc/booking/db-ca.pem")
    /// ```
    public struct Configuration: Sendable {
        /// Whether to encrypt the connection and how to check the server's certificate, with the
        /// meaning of libpq's `sslmode` of the same name.
        ///
        /// Only ``verifyCA`` and ``verifyFull`` check the certificate; the others encrypt against
        /// eavesdroppers but not against someone who can impersonate the server.
        public enum TLSMode: String, Sendable, CaseIterable {
            /// Never encrypt.
            case disable
            /// Encrypt when the server offers it, without checking its certificate; the same as
            /// ``prefer``, because PostgresNIO has no mode that tries an unencrypted connection first.
            case allow
            /// Encrypt when the server offers it, without checking its certificate; connect
            /// unencrypted when it does not (the default, as in libpq).
            case prefer
            /// Always encrypt (fail when the server does not offer it), without checking the certificate.
            case require
            /// Always encrypt, and check that a trusted certificate authority signed the server's
            /// certificate (see ``Configuration/rootCertificatePath``), but not which host it names.
            case verifyCA = "verify-ca"
            /// Always encrypt, check that a trusted certificate authority signed the server's certificate
            /// and that the certificate names ``Configuration/host`` (a DNS name, or an IP address).
            case verifyFull = "verify-full"
        }

        /// The server's host name or address.
        public var host: String
        /// The server's port, 1 to 65535 (``PostgresStore/migrate()`` refuses another).
        public var port: Int
        /// The ports a TCP connection can name: another would be cut to 16 bits on its way to the network.
        static let ports = 1...65_535
        /// The user to log in as.
        public var username: String
        /// The password, if the server asks for one.
        public var password: String?
        /// The database.
        public var database: String
        /// Encryption and certificate checks.
        public var tls: TLSMode
        /// A PEM file of the certificate authorities to trust for ``TLSMode/verifyCA`` and
        /// ``TLSMode/verifyFull`` (libpq's `sslrootcert`); `nil` trusts the system's store.
        /// The other modes do not check certificates and ignore it.
        public var rootCertificatePath: String?
        /// The most connections the pool opens for operations, 1 to 10,000. The pool may open one more, which the `LISTEN`
        /// of outbox wake-ups holds while the store runs, so each store may hold `poolSize + 1` connections of
        /// the server's `max_connections`.
        public var poolSize: Int
        /// How long an operation waits for a pooled connection before it fails with
        /// `storeUnavailable`.
        ///
        /// This is the store's only client-side deadline on writes: once a connection is held, the
        /// server bounds every statement (``statementTimeout``, ``lockTimeout``), so the outcome of a
        /// transaction that ran is always the answer (never a 503 for a booking that committed). A booking
        /// without an idempotency key waits at most this long for a call shared with other bookings, then
        /// runs alone: at most twice this before its first statement is sent.
        public var connectionWaitTimeout: Duration
        /// The server's bound on one statement (`statement_timeout`, set on every connection).
        public var statementTimeout: Duration
        /// The server's bound on waiting for a row or advisory lock (`lock_timeout`); past it the
        /// operation fails with `storeUnavailable` and changes nothing.
        public var lockTimeout: Duration
        /// How long ``PostgresStore/checkHealth()`` may take in all: readiness probes wait about a second.
        public var healthTimeout: Duration
        /// How long to wait for a new connection to open.
        public var connectTimeout: Duration

        /// Creates a configuration: a pool of 20, 2 s to get a connection, 5 s per statement, 5 s per
        /// lock wait, 1 s for a health check, 5 s to open a connection.
        public init(
            host: String = "127.0.0.1", port: Int = 5432, username: String = "postgres", password: String? = nil,
            database: String = "postgres", tls: TLSMode = .prefer, rootCertificatePath: String? = nil,
            poolSize: Int = 20, connectionWaitTimeout: Duration = .seconds(2), statementTimeout: Duration = .seconds(5),
            lockTimeout: Duration = .seconds(5), healthTimeout: Duration = .seconds(1),
            connectTimeout: Duration = .seconds(5)
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
            self.rootCertificatePath = rootCertificatePath
            self.poolSize = max(1, poolSize)
            self.connectionWaitTimeout = connectionWaitTimeout
            self.statementTimeout = statementTimeout
            self.lockTimeout = lockTimeout
            self.healthTimeout = healthTimeout
            self.connectTimeout = connectTimeout
        }

        /// The configuration as the store uses it, each value moved into its range: `poolSize` 1-10,000;
        /// `connectionWaitTimeout`, `healthTimeout` and `connectTimeout` 0 to 1 h; `statementTimeout` and
        /// `lockTimeout` 1 ms to 24 h (PostgreSQL takes them in 32-bit milliseconds, and the idle-in-transaction bound
        /// is four statement timeouts). A value beyond would overflow the deadlines and settings it makes.
        func normalized() -> Configuration {
            var fixed = self
            let hour = Duration.seconds(3600)
            fixed.poolSize = min(max(1, poolSize), 10_000)
            fixed.connectionWaitTimeout = min(max(.zero, connectionWaitTimeout), hour)
            fixed.healthTimeout = min(max(.zero, healthTimeout), hour)
            fixed.connectTimeout = min(max(.zero, connectTimeout), hour)
            fixed.statementTimeout = min(max(.milliseconds(1), statementTimeout), hour * 24)
            fixed.lockTimeout = min(max(.milliseconds(1), lockTimeout), hour * 24)
            return fixed
        }

        /// The query parameters ``init(url:)`` accepts.
        static let urlParameters = ["sslmode", "sslrootcert"]

        /// Parses `postgres://user:password@host:port/database?sslmode=MODE&sslrootcert=PATH`
        /// (also `postgresql://`), as libpq reads such a URL.
        ///
        /// - The user, password and database are percent-decoded once: a password `p@ss:100%` is
        ///   written `p%40ss%3A100%25`.
        /// - A missing user is `postgres`; a missing port is 5432 (a port is 1 to 65535); a missing database is the
        ///   user's name.
        /// - `sslmode` is a ``TLSMode`` raw value (`disable`, `allow`, `prefer`, `require`, `verify-ca`,
        ///   `verify-full`); without it, `prefer`.
        /// - `sslrootcert` is the path of a PEM file of trusted certificate authorities (or `system`, the
        ///   default: the system's trust store); it needs `sslmode=verify-ca` or `verify-full`, because
        ///   libpq would verify with it under `require` too and this store never does.
        ///
        /// Any other query parameter, or one given twice, is refused rather than ignored.
        public init(url text: String) throws(BookingError) {
            guard let components = URLComponents(string: text), let scheme = components.scheme,
                ["postgres", "postgresql"].contains(scheme.lowercased()), let host = components.host, !host.isEmpty
            else {
                throw .invalidInput(
                    field: "store",
                    "must be a URL like postgres://user:password@host:5432/database; write @ : / % in the user, "
                        + "password or database as %40 %3A %2F %25")
            }
            // An '@' the URL did not read as the end of the user and password means one in the password was not
            // encoded (`postgres://u:pa/ss@host/db` reads as host `u`, port `pa`): nothing of it is repeated.
            let beforeQuery = text.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if components.percentEncodedPath.contains("@")
                || (components.percentEncodedUser == nil && beforeQuery.contains("@"))
            {
                throw .invalidInput(
                    field: "store",
                    "has an @ outside the user and password; write @ : / % in the user, password or database as "
                        + "%40 %3A %2F %25")
            }
            // The port as written: URLComponents reads one of more digits than an Int holds as no port at all.
            if let range = components.rangeOfPort, let portText = components.string?[range] {
                guard let port = Int(portText), Self.ports.contains(port) else {
                    throw .invalidInput(field: "store", "has port \(portText); a port is 1 to 65535")
                }
            }
            // An IPv6 address comes in brackets, `postgres://u@[::1]:5432/db`; PostgresNIO wants it bare.
            let address = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            let user = try Self.decoded(components.percentEncodedUser, "user") ?? ""
            let username = user.isEmpty ? "postgres" : user
            let password = try Self.decoded(components.percentEncodedPassword, "password")
            let path = components.percentEncodedPath
            let database = try Self.decoded(path.hasPrefix("/") ? String(path.dropFirst()) : path, "database") ?? ""

            var parameters: [String: String] = [:]
            for item in components.queryItems ?? [] {
                guard Self.urlParameters.contains(item.name) else {
                    throw .invalidInput(
                        field: "store",
                        "accepts only the query parameters sslmode and sslrootcert, not \(Self.quoted(item.name))")
                }
                guard parameters[item.name] == nil else {
                    throw .invalidInput(field: "store", "gives \(item.name) more than once")
                }
                parameters[item.name] = item.value ?? ""
            }
            var tls = TLSMode.prefer
            if let mode = parameters["sslmode"] {
                guard let known = TLSMode(rawValue: mode) else {
                    throw .invalidInput(
                        field: "store",
                        "sslmode must be disable, allow, prefer, require, verify-ca or verify-full, not "
                            + Self.quoted(mode))
                }
                tls = known
            }
            var rootCertificatePath: String?
            if let root = parameters["sslrootcert"] {
                guard tls == .verifyCA || tls == .verifyFull else {
                    throw .invalidInput(
                        field: "store",
                        "sslrootcert needs sslmode=verify-ca or sslmode=verify-full; the other modes check no certificate"
                    )
                }
                guard !root.isEmpty else {
                    throw .invalidInput(
                        field: "store",
                        "sslrootcert must be the path of a PEM file of certificate authorities, or system")
                }
                rootCertificatePath = root == "system" ? nil : root
            }
            self.init(
                host: address, port: components.port ?? 5432, username: username, password: password,
                database: database.isEmpty ? username : database, tls: tls, rootCertificatePath: rootCertificatePath)
        }

        /// Removes one level of percent-encoding from a part of the URL.
        private static func decoded(_ encoded: String?, _ part: String) throws(BookingError) -> String? {
            guard let encoded else { return nil }
            guard let decoded = encoded.removingPercentEncoding else {
                throw .invalidInput(
                    field: "store", "has a malformed percent-encoding in its \(part) (write % itself as %25)")
            }
            return decoded
        }

        /// A parameter name or value for an error message: at most 40 characters, control characters dropped.
        private static func quoted(_ text: String) -> String {
            "'" + String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 }.prefix(40))) + "'"
        }

        /// The swift-nio-ssl configuration of ``tls``: no certificate check for `allow`, `prefer` and
        /// `require`; the chain for `verify-ca`; the chain and the host for `verify-full`.
        var clientTLSConfiguration: TLSConfiguration {
            var configuration = TLSConfiguration.makeClientConfiguration()
            switch tls {
            case .disable, .allow, .prefer, .require:
                configuration.certificateVerification = .none
            case .verifyCA:
                configuration.certificateVerification = .noHostnameVerification
            case .verifyFull:
                configuration.certificateVerification = .fullVerification
            }
            if tls == .verifyCA || tls == .verifyFull, let rootCertificatePath {
                configuration.trustRoots = .file(rootCertificatePath)
            }
            return configuration
        }

        /// The PostgresNIO client configuration.
        var clientConfiguration: PostgresClient.Configuration {
            let tls: PostgresClient.Configuration.TLS =
                switch self.tls {
                case .disable: .disable
                case .allow, .prefer: .prefer(clientTLSConfiguration)
                case .require, .verifyCA, .verifyFull: .require(clientTLSConfiguration)
                }
            var configuration = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls)
            // One more for the LISTEN, which holds its connection as long as the store runs.
            configuration.options.maximumConnections = poolSize + 1
            configuration.options.connectTimeout = connectTimeout
            // PostgresNIO reads and writes text as UTF-8 but does not say so; without this, a database in
            // another encoding (LATIN1, say) would store UTF-8 bytes as if they were its own characters.
            // The server bounds every statement and lock wait of every connection: an operation that
            // holds a connection ends within these, and its outcome is never guessed by the client.
            // The statements that take a slot are prepared once per connection and planned once: their custom
            // plans would fold away the NULL parameters and look cheaper, so the server would plan them on every
            // execution. The setting reaches every statement of the connection (unnamed ones are cached too), so
            // the store writes none whose generic plan is worse than a custom one (no `$1 IS NULL OR ...`).
            // Every transaction is READ COMMITTED whatever the database's default, the one-statement ones of the
            // dispatcher included (the booking procedure and explicit transactions also say so themselves).
            configuration.options.additionalStartupParameters = [
                ("client_encoding", "UTF8"), ("statement_timeout", "\(statementTimeout.milliseconds)"),
                ("lock_timeout", "\(lockTimeout.milliseconds)"),
                ("idle_in_transaction_session_timeout", "\(max(30_000, statementTimeout.milliseconds * 4))"),
                ("plan_cache_mode", "force_generic_plan"), ("default_transaction_isolation", "read committed"),
            ]
            return configuration
        }
    }
}

extension Duration {
    /// Whole milliseconds, at least 1: what PostgreSQL's timeout settings take (0 would mean none).
    fileprivate var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
