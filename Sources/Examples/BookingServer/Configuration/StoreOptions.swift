import ArgumentParser

/// The command-line flags `migrate` reads, and `serve` too: the store and the log. Each falls back to
/// `BOOKING_<FLAG>`.
struct StoreOptions: ParsableArguments {
    @Option(
        help: "memory, sqlite:PATH or postgres://user:pass@host:5432/db (BOOKING_STORE; default sqlite:booking.sqlite)")
    var store: String?

    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error or critical (BOOKING_LOG_LEVEL; default info)")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "text or json (BOOKING_LOG_FORMAT; default text)")
    var logFormat: String?

    /// The flags given on the command line, by flag name.
    var given: [String: String] {
        let all: [String: String?] = ["store": store, "log-level": logLevel, "log-format": logFormat]
        return all.compactMapValues { $0 }
    }
}
