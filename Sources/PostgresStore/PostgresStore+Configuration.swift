public import BookingDomain
import Foundation
import NIOSSL
import PostgresNIO

extension PostgresStore {
    /// Where the server is and how to use it.
    ///
    /// ```swift
    /// let configuration = try PostgresStore.Configuration(url: "postgres://booking:secret@db:5432/booking?sslmode=require")
    /// ```
    public struct Configuration: Sendable {
        /// Whether to encrypt the connection.
        public enum TLSMode: String, Sendable, CaseIterable {
            /// Never encrypt.
            case disable
            /// Encrypt when the server offers it (the default).
            case prefer
            /// Always encrypt and verify the server's certificate.
            case require
        }

        /// The server's host name or address.
        public var host: String
        /// The server's port.
        public var port: Int
        /// The user to log in as.
        public var username: String
        /// The password, if the server asks for one.
        public var password: String?
        /// The database.
        public var database: String
        /// Encryption.
        public var tls: TLSMode
        /// The most connections the pool opens.
        public var poolSize: Int
        /// How long an operation may take, waiting for a connection included, before it fails
        /// with ``BookingDomain/BookingError/Code/storeUnavailable``.
        public var operationTimeout: Duration
        /// How long to wait for a new connection to open.
        public var connectTimeout: Duration

        /// Creates a configuration.
        public init(
            host: String = "127.0.0.1", port: Int = 5432, username: String = "postgres", password: String? = nil,
            database: String = "postgres", tls: TLSMode = .prefer, poolSize: Int = 20,
            operationTimeout: Duration = .seconds(10), connectTimeout: Duration = .seconds(5)
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
            self.poolSize = max(1, poolSize)
            self.operationTimeout = operationTimeout
            self.connectTimeout = connectTimeout
        }

        /// Parses `postgres://user:password@host:port/database?sslmode=disable|prefer|require`
        /// (also `postgresql://`), as libpq reads such a URL.
        ///
        /// - The user, password and database are percent-decoded once: a password `p@ss:100%` is
        ///   written `p%40ss%3A100%25`.
        /// - A missing user is `postgres`; a missing port is 5432; a missing database is the user's name.
        public init(url text: String) throws(BookingError) {
            guard let components = URLComponents(string: text), let scheme = components.scheme,
                ["postgres", "postgresql"].contains(scheme.lowercased()), let host = components.host, !host.isEmpty
            else {
                throw .invalidInput(
                    field: "store",
                    "must be a URL like postgres://user:password@host:5432/database, with @ : / % in the user, "
                        + "password or database written %40 %3A %2F %25")
            }
            // An IPv6 address comes in brackets, `postgres://u@[::1]:5432/db`; PostgresNIO wants it bare.
            let address = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            let user = try Self.decoded(components.percentEncodedUser, "user") ?? ""
            let username = user.isEmpty ? "postgres" : user
            let password = try Self.decoded(components.percentEncodedPassword, "password")
            let path = components.percentEncodedPath
            let database = try Self.decoded(path.hasPrefix("/") ? String(path.dropFirst()) : path, "database") ?? ""
            var tls = TLSMode.prefer
            for item in components.queryItems ?? [] where item.name == "sslmode" {
                guard let mode = TLSMode(rawValue: item.value ?? "") else {
                    throw .invalidInput(field: "store", "sslmode must be disable, prefer or require")
                }
                tls = mode
            }
            self.init(
                host: address, port: components.port ?? 5432, username: username, password: password,
                database: database.isEmpty ? username : database, tls: tls)
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

        /// The PostgresNIO client configuration.
        var clientConfiguration: PostgresClient.Configuration {
            let tls: PostgresClient.Configuration.TLS =
                switch self.tls {
                case .disable: .disable
                case .prefer: .prefer(.makeClientConfiguration())
                case .require: .require(.makeClientConfiguration())
                }
            var configuration = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls)
            configuration.options.maximumConnections = poolSize
            configuration.options.connectTimeout = connectTimeout
            return configuration
        }
    }
}
