import BookingDomain
import PostgresStore
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
}
