import ArgumentParser
import BookingDomain
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `booking-server`: the example HTTP host of swift-booking.
@main
struct BookingServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "booking-server",
        abstract: "Serves the swift-booking API and web page.",
        subcommands: [Serve.self, Migrate.self],
        defaultSubcommand: Serve.self)

    /// Ignores SIGPIPE before anything is written (NIO ignores it on Linux only once it opens a socket), so a log
    /// line written to a pipe nobody reads any more fails and is dropped rather than ending the process; then
    /// parses and runs the command.
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        await main(nil)
    }

    /// Resolves the settings, or prints one line naming the bad setting and exits with 64: in the log format asked
    /// for when that much is valid (a JSON object under `--log-format json`), else as text.
    static func settings(_ given: [String: String]) throws -> ServerSettings {
        let environment = ProcessInfo.processInfo.environment
        do {
            return try ServerSettings(given: given, environment: environment)
        } catch {
            // An empty value is not set, as the settings read it.
            let format = [given["log-format"], environment[ServerOptions.environmentName("log-format")]]
                .lazy.compactMap { $0 }.first { !$0.isEmpty }
                .flatMap(ServerSettings.LogFormat.init(named:))
            announce("\(error)", level: .critical, format: format ?? .text)
            throw ExitCode(64)
        }
    }

    static func logger(_ settings: ServerSettings) -> Logger {
        let format = settings.logFormat
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == .json ? JSONLogHandler(label: label) : TextLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "booking-server")
    }

    static func open(_ settings: ServerSettings, logger: Logger) throws -> any BookingStore {
        do {
            return try settings.store.open(logger: logger)
        } catch {
            throw unavailable("cannot open the store \(settings.store): \(error)", settings)
        }
    }

    /// Announces `message` at `critical` (see ``announce(_:level:format:fields:)``) and returns exit code 69: what
    /// the command throws when the store or the address it needs is out of reach.
    static func unavailable(_ message: String, _ settings: ServerSettings) -> ExitCode {
        announce(message, level: .critical, format: settings.logFormat)
        return ExitCode(69)
    }

    /// Writes one line to standard error whatever the log level, in the log format: `booking-server: <message>`
    /// (then `: <value>` for each field) as text, or one JSON object with the fields beside `msg`, so that a log
    /// shipper reading JSON lines reads this one too. A control character in the message or a field (a line break in
    /// a store's path, say) is escaped as the text log escapes it, so the line stays one. Standard error is
    /// unbuffered: the line is readable at once under Docker, systemd or a pipe.
    static func announce(
        _ message: String, level: Logger.Level, format: ServerSettings.LogFormat,
        fields: KeyValuePairs<String, String> = [:]
    ) {
        switch format {
        case .text:
            var line = "booking-server: "
            TextLogHandler.append(message + fields.map { ": \($0.value)" }.joined(), to: &line)
            StandardError.write(line + "\n")
        case .json:
            StandardError.write(
                JSONLogHandler.line(
                    level: level, label: "booking-server", message: message,
                    fields: Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })))
        }
    }
}

extension BookingServerCommand {
    /// Runs the store, migrates it, then serves HTTP and delivers notifications until SIGTERM or SIGINT.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Migrate, then serve (the default).")

        @OptionGroup var options: ServerOptions

        func run() async throws {
            let settings = try BookingServerCommand.settings(options.given)
            let logger = BookingServerCommand.logger(settings)
            let tuning = MallocTuning.apply(environment: ProcessInfo.processInfo.environment)
            logger.debug("malloc thresholds for answer buffers", metadata: ["outcome": "\(tuning.rawValue)"])
            let store = try BookingServerCommand.open(settings, logger: logger)
            let adminToken = settings.adminToken ?? SecretToken.generate()
            if settings.adminToken == nil {
                BookingServerCommand.announce(
                    "generated admin token (set BOOKING_ADMIN_TOKEN to choose one)", level: .notice,
                    format: settings.logFormat, fields: ["admin_token": adminToken])
            }
            let app = try BookingApplication.make(
                settings: settings, store: store, adminToken: adminToken, logger: logger,
                onServerRunning: { channel in
                    logger.info(
                        "booking-server listening",
                        metadata: [
                            "address": "\(channel.localAddress?.description ?? "?")", "store": "\(settings.store)",
                            "resources": "\(settings.resources.map(\.id.rawValue).joined(separator: ","))",
                        ])
                })
            let recorded = CancellationRecorder(app)
            /// Says that the shutdown cut off what was in flight, when the group cancelled the application at the
            /// shutdown timeout, on SIGQUIT or on a second SIGTERM or SIGINT; whatever the way out.
            func warnIfCutOff() {
                guard recorded.wasCancelled else { return }
                logger.warning(
                    "booking-server cut off what was still in flight, at its shutdown timeout or on a second signal (requests unanswered then were closed, and a send cut off is delivered again once its lease lapses; a retry with the same Idempotency-Key finds out what became of a booking)",
                    metadata: ["timeout": "\(settings.shutdownTimeout)"])
            }
            do {
                // The notice is the last service, so the first told of a shutdown. SIGQUIT (Ctrl-\\), or a second
                // SIGTERM or SIGINT (RepeatedSignal), stops at once, cutting off what is in flight, for an operator
                // who will not wait for the shutdown timeout.
                var group = ServiceGroupConfiguration(
                    services: [RepeatedSignal(), recorded, ShutdownNotice(logger: logger)],
                    gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [.sigquit], logger: logger)
                // Past it, what is still running is cancelled: a database that stopped answering would otherwise
                // hold the requests in flight for the store's whole bound (tens of seconds on PostgreSQL), longer than
                // an orchestrator waits before SIGKILL.
                group.maximumGracefulShutdownDuration = settings.shutdownTimeout
                do {
                    try await ServiceGroup(configuration: group).run()
                } catch is RepeatedSignal.Repeated {
                    // Asked for: the group was cancelled, which the warning below says.
                }
                warnIfCutOff()
                logger.notice("booking-server stopped")
            } catch let error as IOError where error.description.hasPrefix("bind(") {
                // The port taken, or an address not of this machine: one line, as for a bad setting.
                throw BookingServerCommand.unavailable(
                    "cannot listen on \(settings.host) port \(settings.port): \(String(cString: strerror(error.errnoCode)))",
                    settings)
            } catch let error as BookingError {
                // A service stopped on the store: at start, its database out of reach or of a newer schema (the
                // migration before HTTP listens, or the dispatcher's own). One line, exit 69, as `migrate` says it.
                warnIfCutOff()
                throw BookingServerCommand.unavailable(
                    "cannot serve from the store \(settings.store): \(error)", settings)
            } catch {
                warnIfCutOff()
                throw error
            }
        }
    }

    /// Applies the store's migrations and exits.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply database migrations and exit.",
            discussion:
                "The other options of serve are accepted too, and checked as serve checks them, so one command line or environment serves both commands (`--help-hidden` lists them)."
        )

        @OptionGroup var storeOptions: StoreOptions

        @OptionGroup(visibility: .hidden) var servingOptions: ServingOptions

        func run() async throws {
            let settings = try BookingServerCommand.settings(ServerOptions.given(storeOptions, servingOptions))
            let logger = BookingServerCommand.logger(settings)
            let store = try BookingServerCommand.open(settings, logger: logger)
            do {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await store.run() }
                    try await store.migrate()
                    group.cancelAll()
                }
            } catch {
                // A database out of reach or of a newer schema: one line, as for a store that cannot be opened.
                throw BookingServerCommand.unavailable("cannot migrate the store \(settings.store): \(error)", settings)
            }
            logger.info("migrations applied", metadata: ["store": "\(settings.store)"])
        }
    }
}
