import BookingDomain
import Logging
import PostgresStore
import TestSupport
import Testing

/// A URL and what its user, password and database must decode to.
struct DecodingCase: Sendable, CustomTestStringConvertible {
    let url: String
    let username: String
    let password: String?
    let database: String

    var testDescription: String { url }
}

@Suite("PostgreSQL URLs")
struct PostgresConfigurationTests {
    static let decodingCases = [
        // `%25` is a percent sign: `%2541` is the three characters `%41`, never `A`.
        DecodingCase(
            url: "postgres://p%2541ss:p%2541ss@h/db%2541", username: "p%41ss", password: "p%41ss", database: "db%41"),
        DecodingCase(url: "postgres://u:100%25@h/100%25", username: "u", password: "100%", database: "100%"),
        DecodingCase(url: "postgres://a%40b:s%40cret@h/x%40y", username: "a@b", password: "s@cret", database: "x@y"),
        DecodingCase(url: "postgres://a%3Ab:x%3Ay%3A@h/d%3Ab", username: "a:b", password: "x:y:", database: "d:b"),
        DecodingCase(
            url: "postgres://a%2Fb:x%2Fy@h/%2Fdata%2Fb", username: "a/b", password: "x/y", database: "/data/b"),
        DecodingCase(
            url: "postgres://j%C3%BCrgen:p%C3%A4ss%F0%9F%94%91@h/caf%C3%A9", username: "jürgen", password: "päss🔑",
            database: "café"),
        DecodingCase(
            url: "postgres://booking:p%25%40%3A%2F%20w@h/bookings", username: "booking", password: "p%@:/ w",
            database: "bookings"),
        DecodingCase(url: "postgres://ann@h", username: "ann", password: nil, database: "ann"),
        DecodingCase(url: "postgres://h/db", username: "postgres", password: nil, database: "db"),
        DecodingCase(url: "postgres://u:@h/db", username: "u", password: "", database: "db"),
    ]

    @Test("the user, password and database are percent-decoded exactly once", arguments: decodingCases)
    func decodesOnce(_ example: DecodingCase) throws {
        let configuration = try PostgresStore.Configuration(url: example.url)
        #expect(configuration.username == example.username)
        #expect(configuration.password == example.password)
        #expect(configuration.database == example.database)
        #expect(configuration.host == "h")
    }

    @Test("host, port and scheme: postgresql:// too, 5432 by default, IPv6 addresses without brackets")
    func hostAndPort() throws {
        let named = try PostgresStore.Configuration(url: "postgresql://u@db.example:6543/b")
        #expect(named.host == "db.example")
        #expect(named.port == 6543)
        let defaulted = try PostgresStore.Configuration(url: "postgres://u@10.0.0.7/b")
        #expect(defaulted.host == "10.0.0.7")
        #expect(defaulted.port == 5432)
        let ipv6 = try PostgresStore.Configuration(url: "postgres://u@[::1]:5433/b")
        #expect(ipv6.host == "::1")
        #expect(ipv6.port == 5433)
    }

    @Test(
        "every libpq sslmode is accepted",
        arguments: PostgresStore.Configuration.TLSMode.allCases)
    func sslModes(_ mode: PostgresStore.Configuration.TLSMode) throws {
        let configuration = try PostgresStore.Configuration(url: "postgres://u@h/db?sslmode=\(mode.rawValue)")
        #expect(configuration.tls == mode)
        #expect(configuration.rootCertificatePath == nil)
    }

    @Test("sslmode values are spelled as libpq spells them; prefer is the default")
    func sslModeNames() throws {
        #expect(
            PostgresStore.Configuration.TLSMode.allCases.map(\.rawValue) == [
                "disable", "allow", "prefer", "require", "verify-ca", "verify-full",
            ])
        #expect(try PostgresStore.Configuration(url: "postgres://u@h/db").tls == .prefer)
        #expect(PostgresStore.Configuration().tls == .prefer)
    }

    @Test("sslrootcert names the certificate authorities for verify-ca and verify-full; system means the default")
    func rootCertificate() throws {
        let full = try PostgresStore.Configuration(
            url: "postgres://u@h/db?sslmode=verify-full&sslrootcert=/etc/booking/db%20ca.pem")
        #expect(full.tls == .verifyFull)
        #expect(full.rootCertificatePath == "/etc/booking/db ca.pem")
        let authority = try PostgresStore.Configuration(url: "postgres://u@h/db?sslrootcert=ca.pem&sslmode=verify-ca")
        #expect(authority.tls == .verifyCA)
        #expect(authority.rootCertificatePath == "ca.pem")
        let system = try PostgresStore.Configuration(url: "postgres://u@h/db?sslmode=verify-full&sslrootcert=system")
        #expect(system.tls == .verifyFull)
        #expect(system.rootCertificatePath == nil)
    }

    @Test(
        "bad settings are refused with a sentence that says what is accepted",
        arguments: [
            ("postgres://u@h/db?sslmode=maybe", "disable, allow, prefer, require, verify-ca or verify-full"),
            ("postgres://u@h:99999/db", "has port 99999; a port is 1 to 65535"),
            ("postgres://u@h:0/db", "has port 0; a port is 1 to 65535"),
            ("postgres://u@h:99999999999999999999/db", "a port is 1 to 65535"),
            ("postgres://u@h/db?sslmode=", "disable, allow, prefer, require, verify-ca or verify-full"),
            ("postgres://u@h/db?sslmode=REQUIRE", "disable, allow, prefer, require, verify-ca or verify-full"),
            ("postgres://u@h/db?ssl=true", "only the query parameters sslmode and sslrootcert"),
            (
                "postgres://u@h/db?sslmode=require&application_name=x",
                "only the query parameters sslmode and sslrootcert"
            ),
            ("postgres://u@h/db?sslmode=require&sslmode=disable", "sslmode more than once"),
            ("postgres://u@h/db?sslmode=require&sslrootcert=ca.pem", "sslrootcert needs sslmode=verify-ca or"),
            ("postgres://u@h/db?sslrootcert=ca.pem", "sslrootcert needs sslmode=verify-ca or"),
            ("postgres://u@h/db?sslmode=verify-ca&sslrootcert=", "the path of a PEM file"),
            ("mysql://u@h/db", "postgres://user:password@host:5432/database"),
            ("postgres://", "postgres://user:password@host:5432/database"),
            ("not a url", "postgres://user:password@host:5432/database"),
        ])
    func refused(_ url: String, _ explanation: String) throws {
        try refusedWithout(url, explanation, repeating: [])
    }

    @Test(
        "a password with an @ or / not encoded is refused without repeating any of it",
        arguments: [
            "postgres://u:123/SECRETPW@host/db", "postgres://u:pa/SECRETPW@host/db", "postgres://u@h/SECRET@PW",
            "postgres://u:123/SECRETPW@host/db?sslmode=disable",
        ])
    func unencodedAt(_ url: String) throws {
        // Either sentence: one whose port is no number is no URL at all.
        try refusedWithout(url, "write @ : / % in the user", repeating: ["SECRET", "PW", "123", "pa"])
    }

    /// `url` is refused as invalid input whose problem contains `explanation` and none of `secrets`.
    private func refusedWithout(_ url: String, _ explanation: String, repeating secrets: [String]) throws {
        let error = #expect(throws: BookingError.self) { try PostgresStore.Configuration(url: url) }
        #expect(error?.code == .invalidInput)
        let problem = error?.fieldErrors["store"] ?? ""
        #expect(problem.contains(explanation), "\(problem)")
        for secret in secrets { #expect(!"\(error.map { "\($0)" } ?? "")".contains(secret), "\(problem)") }
    }

    @Test("values at the ends of Int and Duration are moved into range when the store is made, never overflowed")
    func valuesOutOfRange() {
        let logger = Logger(label: "range", factory: { _ in SwiftLogNoOpLogHandler() })
        let huge = PostgresStore(
            configuration: .init(
                poolSize: .max, connectionWaitTimeout: .seconds(Int64.max), statementTimeout: .seconds(Int64.max),
                lockTimeout: .seconds(Int64.max), healthTimeout: .seconds(Int64.max),
                connectTimeout: .seconds(Int64.max)),
            logger: logger
        ).configuration
        #expect(huge.poolSize == 10_000)
        #expect(huge.connectionWaitTimeout == .seconds(3600) && huge.healthTimeout == .seconds(3600))
        #expect(huge.connectTimeout == .seconds(3600))
        #expect(huge.statementTimeout == .seconds(86_400) && huge.lockTimeout == .seconds(86_400))
        var tiny = PostgresStore.Configuration(
            connectionWaitTimeout: .seconds(Int64.min), statementTimeout: .seconds(Int64.min),
            lockTimeout: .zero, healthTimeout: .seconds(-1), connectTimeout: .seconds(Int64.min))
        tiny.poolSize = .min  // a var: assigned after the initializer's check
        let fixed = PostgresStore(configuration: tiny, logger: logger).configuration
        #expect(fixed.poolSize == 1)
        #expect(fixed.connectionWaitTimeout == .zero && fixed.healthTimeout == .zero && fixed.connectTimeout == .zero)
        #expect(fixed.statementTimeout == .milliseconds(1) && fixed.lockTimeout == .milliseconds(1))
    }
}
