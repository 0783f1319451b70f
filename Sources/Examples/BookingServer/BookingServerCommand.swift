import ArgumentParser
import BookingDomain
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `booking-server`: the example HTTP host of swift-booking.
@main
struct BookingServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "booking-server",
        abstract: "Serves the swift-booking API and web page.",
        subcommands: [Serve.self, Migrate.self],
        defaultSubcommand: Serve.self)

    /// Resolves the settings, or prints one line naming the bad setting and exits with 64.
    static func settings(_ options: ServerOptions) throws -> ServerSettings {
        do {
            return try ServerSettings(options: options, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("booking-server: \(error)\n".utf8))
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
            FileHandle.standardError.write(
                Data("booking-server: cannot open the store \(settings.store): \(error)\n".utf8))
            throw ExitCode(69)
        }
    }
}

extension BookingServerCommand {
    /// Runs the store, migrates it, then serves HTTP and delivers notifications until SIGTERM or SIGINT.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Migrate, then serve (the default).")

        @OptionGroup var options: ServerOptions

        func run() async throws {
            let settings = try BookingServerCommand.settings(options)
            let logger = BookingServerCommand.logger(settings)
            let store = try BookingServerCommand.open(settings, logger: logger)
            let adminToken = settings.adminToken ?? SecretToken.generate()
            if settings.adminToken == nil {
                // Standard error is unbuffered: the line is readable at once under Docker, systemd or a pipe.
                FileHandle.standardError.write(
                    Data(
                        "booking-server: generated admin token (set BOOKING_ADMIN_TOKEN to choose one): \(adminToken)\n"
                            .utf8))
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
            do {
                try await app.runService()
            } catch let error as IOError where error.description.hasPrefix("bind(") {
                // The port taken, or an address not of this machine: one line, as for a bad setting.
                FileHandle.standardError.write(
                    Data(
                        "booking-server: cannot listen on \(settings.host) port \(settings.port): \(String(cString: strerror(error.errnoCode)))\n"
                            .utf8))
                throw ExitCode(69)
            }
        }
    }

    /// Applies the store's migrations and exits.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply database migrations and exit.")

        @OptionGroup var options: ServerOptions

        func run() async throws {
            let settings = try BookingServerCommand.settings(options)
            let logger = BookingServerCommand.logger(settings)
            let store = try BookingServerCommand.open(settings, logger: logger)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await store.run() }
                try await store.migrate()
                group.cancelAll()
            }
            logger.info("migrations applied", metadata: ["store": "\(settings.store)"])
        }
    }
}
