import BookingDomain
import Configuration
import Foundation
import Logging
import NIOCore
import PostgresStore
import WebhookSender

/// Every setting of `booking-server`, validated: from flags, else `BOOKING_*` environment variables, else defaults.
///
/// The precedence is swift-configuration's provider hierarchy: the parsed flags (an `InMemoryProvider`)
/// before the environment (`EnvironmentVariablesProvider`, key `booking.time-zone` is `BOOKING_TIME_ZONE`).
/// The admin token, the webhook secrets, the calendar feed secret and the store URL (which may carry a password) are secrets:
/// redacted by any access reporter, and never part of an error message.
struct ServerSettings: Sendable {
    /// What to open: `memory`, `sqlite:PATH` or a `postgres://` URL.
    enum StoreSpec: Sendable, Equatable {
        case memory
        case sqlite(path: String)
        case postgres(url: String)
    }

    /// Log line format.
    enum LogFormat: String, Sendable, CaseIterable {
        case text
        case json

        /// The format `text` names, in any case (`JSON` is `json`); `nil` for none.
        init?(named text: String) { self.init(rawValue: text.lowercased()) }
    }

    var store: StoreSpec = .sqlite(path: "booking.sqlite")
    var host = "127.0.0.1"
    var port = 4000
    var corsOrigins: [String] = []
    /// `nil` means: generate one at start-up and print it once. A given token has at least
    /// ``minimumAdminTokenLength`` characters; an empty one counts as not given.
    var adminToken: String?
    /// The shortest admin token accepted.
    static let minimumAdminTokenLength = 16
    /// The resources served, in order: from the resources file (`--config`), else the one resource
    /// `default` the schedule flags describe.
    var resources: [ConfiguredResource] = [
        .flags(
            .standard(in: TimeZone(identifier: ScheduleLimits.timeZone) ?? .current),
            timeZoneName: ScheduleLimits.timeZone)
    ]
    /// How long a hold (`POST /api/holds`) keeps its slot, for every resource: `--hold-minutes`, 1-60.
    var holdDuration: Duration = .minutes(ScheduleLimits.holdMinutes.fallback)
    var webhookURL: URL?
    /// The `whsec_` signing secrets, validated; several while rotating.
    var webhookSecrets: [WebhookSecret] = []
    /// Whether webhook payloads carry the appointment's iCalendar file (`calendar`); only with a webhook URL.
    var webhookCalendar = false
    /// The right-hand side of calendar files' UIDs (`appointment-<id>-<created>@<domain>`).
    var calendarDomain = Self.defaultCalendarDomain
    /// The calendar domain when none is set.
    static let defaultCalendarDomain = "localhost"
    /// The read-only calendar feed's secret, ``minimumAdminTokenLength`` or more URL-safe characters
    /// (it travels in the feed's path); `nil` turns the feed off.
    var calendarFeedSecret: String?
    /// How many days back a feed reaches (`--calendar-feed-past-days`): appointments that started earlier are left
    /// out, so a feed's size follows the window, not the table's history.
    var calendarFeedPastDays = Self.calendarFeedPastDays.fallback
    /// The range and default of ``calendarFeedPastDays``.
    static let calendarFeedPastDays = NumberSetting(range: 0...3660, fallback: 90)
    /// How long a graceful shutdown waits for the work in flight before cancelling it (`--shutdown-timeout-seconds`):
    /// a database that stopped answering would otherwise hold a request for its store's whole bound.
    var shutdownTimeout: Duration = .seconds(Self.shutdownTimeoutSeconds.fallback)
    /// The range and default of ``shutdownTimeout``, in seconds.
    static let shutdownTimeoutSeconds = NumberSetting(range: 1...3600, fallback: 8)
    /// How long an HTTP connection may read nothing while no request of it is being answered before the server closes
    /// it (`--idle-timeout-seconds`): between requests, or before a request's head is whole or its body's next part
    /// arrives. Each part read starts the wait again: it is no deadline for a whole request. Without it, a caller could
    /// hold connections open for ever by sending nothing, or a head a byte at a time.
    var idleTimeout: Duration = .seconds(Self.idleTimeoutSeconds.fallback)
    /// The range and default of ``idleTimeout``, in seconds (nginx's `keepalive_timeout` is 75 s too).
    static let idleTimeoutSeconds = NumberSetting(range: 1...3600, fallback: 75)
    var logLevel: Logger.Level = .info
    var logFormat: LogFormat = .text
    /// The notification dispatcher's identity (`NotificationDispatcher`'s `workerID`): random per process
    /// unless set (an empty one counts as not set, never as an identity to share). A stable one lets a restarted instance take back its own leases at once; two live
    /// processes must never share one.
    var dispatcherID = "booking-\(UUID().uuidString.prefix(8).lowercased())"
    /// The longest dispatcher identity accepted.
    static let maximumDispatcherIDLength = 128

    /// A bad setting: names the flag, its environment variable and what is accepted.
    struct Invalid: Error, CustomStringConvertible {
        let flag: String
        let value: String
        let accepted: String

        var description: String {
            // A line break or another control character in the value (easy to set in the environment) is escaped
            // wherever the value shows, in what is accepted too: the error stays one line.
            var line = ""
            TextLogHandler.append(
                "invalid --\(flag) '\(value)' (or \(ServerOptions.environmentName(flag))): \(accepted)", to: &line)
            return line
        }
    }

    /// The flags that describe the `default` resource's schedule; refused together with `--config`, whose
    /// file gives each resource its own.
    static let scheduleFlags = [
        "time-zone", "hours", "slot-minutes", "days-ahead", "min-notice-minutes", "buffer-minutes", "reminder-minutes",
        "capacity", "daily-limit", "weekly-limit",
    ]

    /// The settings that are secrets: never logged, never echoed in an error.
    static let secretFlags: Set<String> = [
        "admin-token", "webhook-secret", "calendar-feed-secret", "store", "webhook-url",
    ]

    /// The configuration key of a flag: `time-zone` is `booking.time-zone`, read from the environment as
    /// `BOOKING_TIME_ZONE`.
    static func key(_ flag: String) -> AbsoluteConfigKey { AbsoluteConfigKey(["booking", flag]) }

    /// Resolves and validates `options`, reading missing ones from `environment`.
    init(options: ServerOptions, environment: [String: String]) throws {
        try self.init(given: options.given, environment: environment)
    }

    /// Resolves and validates the flags `given` (by flag name), reading missing ones from `environment`.
    init(given: [String: String], environment: [String: String]) throws {
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        // An empty flag is not set, so the environment is read for it (`--store "$STORE"` with STORE empty must not
        // hide BOOKING_STORE behind the default).
        for (flag, given) in given where !given.isEmpty {
            flags[Self.key(flag)] = ConfigValue(.string(given), isSecret: Self.secretFlags.contains(flag))
        }
        let config = ConfigReader(providers: [
            InMemoryProvider(name: "flags", values: flags),
            EnvironmentVariablesProvider(
                environmentVariables: environment,
                secretsSpecifier: .specific(Set(Self.secretFlags.map(ServerOptions.environmentName)))),
        ])
        // An empty value, given or in the environment, counts as not set.
        func value(_ flag: String) -> String? {
            config.string(forKey: ConfigKey(["booking", flag]), isSecret: Self.secretFlags.contains(flag))
                .flatMap { $0.isEmpty ? nil : $0 }
        }
        func integer(_ flag: String, _ limits: NumberSetting) throws -> Int {
            guard let text = value(flag) else { return limits.fallback }
            guard let number = Int(text), limits.range.contains(number) else {
                throw Invalid(flag: flag, value: text, accepted: limits.accepted)
            }
            return number
        }

        if let text = value("store") { store = try Self.parseStore(text) }
        if let text = value("host") {
            // Resolved now, as the server will resolve it to listen: a typo stops the start with one line.
            guard (try? SocketAddress.makeAddressResolvingHost(text, port: 0)) != nil else {
                throw Invalid(
                    flag: "host", value: text,
                    accepted: "must be an address or a name of this machine to listen on, like 127.0.0.1, 0.0.0.0 or ::"
                )
            }
            host = text
        }
        port = try integer("port", NumberSetting(range: 0...65_535, fallback: 4000))
        if let text = value("cors-origin") {
            let origins = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            corsOrigins = try origins.map { origin in
                guard let normalized = Self.origin(origin) else {
                    throw Invalid(
                        flag: "cors-origin", value: origin,
                        accepted: "must be * or origins like https://example.com (no path), comma-separated")
                }
                return normalized
            }
        }
        if let token = value("admin-token") {
            guard !token.contains(where: \.isWhitespace) else {
                throw Invalid(flag: "admin-token", value: "(hidden)", accepted: "must not contain spaces")
            }
            guard token.count >= Self.minimumAdminTokenLength else {
                throw Invalid(
                    flag: "admin-token", value: "(hidden)",
                    accepted:
                        "must be at least \(Self.minimumAdminTokenLength) characters (leave it unset or empty to generate a random one)"
                )
            }
            adminToken = token
        }
        if let path = value("config") {
            for flag in Self.scheduleFlags {
                guard let text = value(flag) else { continue }
                throw Invalid(
                    flag: flag, value: text,
                    accepted:
                        "cannot be combined with --config (BOOKING_CONFIG): the file sets each resource's schedule")
            }
            do {
                resources = try ResourcesFile.load(path: path)
            } catch {
                throw Invalid(flag: "config", value: path, accepted: error.description)
            }
        } else {
            resources = [
                .flags(
                    try Self.flagSchedule(value: value, integer: integer),
                    timeZoneName: value("time-zone") ?? ScheduleLimits.timeZone)
            ]
        }
        holdDuration = .minutes(try integer("hold-minutes", ScheduleLimits.holdMinutes))
        if let text = value("webhook-url") {
            let shown = Self.shownWebhookURL(text)
            guard let url = URL(string: text) else {
                throw Invalid(flag: "webhook-url", value: shown, accepted: "must be an http or https URL")
            }
            do {
                try WebhookNotificationSender.Configuration.check(url: url)
            } catch {
                throw Invalid(
                    flag: "webhook-url", value: shown, accepted: error.fieldErrors["webhookUrl"] ?? error.message)
            }
            webhookURL = url
            let texts = (value("webhook-secret") ?? "").split { $0 == "," || $0.isWhitespace }
            guard !texts.isEmpty else {
                throw Invalid(flag: "webhook-secret", value: "", accepted: "is required with --webhook-url")
            }
            var secrets: [WebhookSecret] = []
            for (index, text) in texts.enumerated() {
                do {
                    secrets.append(try WebhookSecret(String(text)))
                } catch {
                    // Which one, by position, when there are several (rotation): never the secret itself.
                    let which = texts.count > 1 ? "secret \(index + 1) of \(texts.count) " : "a secret "
                    throw Invalid(
                        flag: "webhook-secret", value: "(hidden)",
                        accepted: which + (error.fieldErrors["webhookSecret"] ?? error.message))
                }
            }
            webhookSecrets = secrets
        }
        if webhookURL == nil, value("webhook-secret") != nil {
            throw Invalid(
                flag: "webhook-secret", value: "(hidden)",
                accepted:
                    "needs --webhook-url (BOOKING_WEBHOOK_URL): the secret signs webhooks, and none are sent without it"
            )
        }
        try readCalendarSettings(value: value)
        calendarFeedPastDays = try integer("calendar-feed-past-days", Self.calendarFeedPastDays)
        shutdownTimeout = .seconds(try integer("shutdown-timeout-seconds", Self.shutdownTimeoutSeconds))
        idleTimeout = .seconds(try integer("idle-timeout-seconds", Self.idleTimeoutSeconds))
        if let text = value("dispatcher-id") {
            guard text.count <= Self.maximumDispatcherIDLength,
                !text.unicodeScalars.contains(where: {
                    $0.properties.isWhitespace || $0.properties.generalCategory == .control
                })
            else {
                throw Invalid(
                    flag: "dispatcher-id", value: text.debugDescription,
                    accepted:
                        "must be at most \(Self.maximumDispatcherIDLength) characters without spaces, e.g. the container or unit name"
                )
            }
            dispatcherID = text
        }
        if let text = value("log-level") {
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw Invalid(
                    flag: "log-level", value: text,
                    accepted: "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = level
        }
        if let text = value("log-format") {
            guard let format = LogFormat(named: text) else {
                throw Invalid(flag: "log-format", value: text, accepted: "must be text or json")
            }
            logFormat = format
        }
    }

    /// Settings with every default, for tests and embedding.
    init() {}

    /// The `default` resource's schedule from the schedule flags (or their variables), with their defaults.
    private static func flagSchedule(
        value: (String) -> String?, integer: (String, NumberSetting) throws -> Int
    ) throws -> Schedule {
        let zoneText = value("time-zone") ?? ScheduleLimits.timeZone
        guard let zone = ScheduleLimits.timeZone(named: zoneText) else {
            throw Invalid(
                flag: "time-zone", value: zoneText, accepted: ScheduleLimits.acceptedTimeZone(refusing: zoneText))
        }
        let hoursText = value("hours") ?? ScheduleLimits.hours
        let hours: [Weekday: [OpeningInterval]]
        do {
            hours = try Schedule.weeklyHours(parsing: hoursText)
        } catch {
            throw Invalid(
                flag: "hours", value: hoursText,
                accepted: ScheduleLimits.acceptedHours(error.fieldErrors["hours"] ?? error.message))
        }
        // Hours that name no day are not a schedule: say so rather than offer nothing (as the resources file does).
        guard !hours.isEmpty else {
            throw Invalid(flag: "hours", value: hoursText, accepted: ScheduleLimits.acceptedHours("it names no day"))
        }
        let slotMinutes = try integer("slot-minutes", ScheduleLimits.slotMinutes)
        guard ScheduleLimits.holdsASlot(hours.values.joined(), slotMinutes: slotMinutes) else {
            throw Invalid(flag: "hours", value: hoursText, accepted: ScheduleLimits.holdsNoSlot(slotMinutes))
        }
        let daysAhead = try integer("days-ahead", ScheduleLimits.daysAhead)
        let noticeMinutes = try integer("min-notice-minutes", ScheduleLimits.minNoticeMinutes)
        let bufferMinutes = try integer("buffer-minutes", ScheduleLimits.bufferMinutes)
        let reminderLeads = try reminderLeads(value("reminder-minutes"))
        let capacity = try integer("capacity", ScheduleLimits.capacity)
        // A limit has no default: unset (or empty) is no limit.
        func limit(_ flag: String) throws -> Int? {
            guard value(flag) != nil else { return nil }
            return try integer(flag, ScheduleLimits.periodLimit)
        }
        let dailyLimit = try limit("daily-limit")
        let weeklyLimit = try limit("weekly-limit")
        do {
            return try Schedule(
                timeZone: zone, weeklyHours: hours, slotLength: .minutes(slotMinutes),
                horizon: .seconds(daysAhead * 86_400), minimumNotice: .minutes(noticeMinutes),
                bufferBefore: .minutes(bufferMinutes), bufferAfter: .minutes(bufferMinutes),
                reminderLeads: reminderLeads, capacity: capacity, dailyLimit: dailyLimit, weeklyLimit: weeklyLimit)
        } catch {
            if error.fieldErrors["minimumNotice"] != nil {
                throw Invalid(
                    flag: "min-notice-minutes", value: String(noticeMinutes),
                    accepted: "at most --days-ahead less one slot (\(daysAhead * 1440 - slotMinutes) minutes here), "
                        + "or no slot is ever offered")
            }
            throw Invalid(
                flag: "hours", value: hoursText,
                accepted: ScheduleLimits.acceptedHours(error.fieldErrors["hours"] ?? error.message))
        }
    }

    /// The `default` resource's reminder leads from `--reminder-minutes` (`1440,60`); none when unset.
    private static func reminderLeads(_ text: String?) throws -> [Duration] {
        guard let text else { return [] }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let minutes = parts.compactMap { $0 }
        guard minutes.count == parts.count, let leads = ScheduleLimits.reminderLeads(minutes: minutes) else {
            throw Invalid(flag: "reminder-minutes", value: text, accepted: ScheduleLimits.acceptedReminderMinutes)
        }
        return leads
    }

    /// `text` as an error may show it: a receiver's URL may carry a token in its user, path or query (as Slack's do),
    /// so only its scheme, host and port, with `/…` for what followed them; `(hidden)` when it has no scheme.
    static func shownWebhookURL(_ text: String) -> String {
        guard let url = ShownURL(text) else { return "(hidden)" }
        return url.scheme + url.hostAndPort + (url.authorityEnd < text.endIndex ? "/…" : "")
    }

    /// A store's URL as an error may show it: `(hidden)@` for its user and password, then its host, port and path
    /// (the database), `?…` for a query (which may carry a password); `(hidden)` when it has no scheme, or when what
    /// stands where its host and port belong is not a host and port (a password without its `@`).
    static func shownStoreURL(_ text: String) -> String {
        guard let url = ShownURL(text) else { return "(hidden)" }
        let rest = text[url.authorityEnd...]
        let path = rest.prefix { !"?#".contains($0) }
        let shown = url.hasUser ? "(hidden)@\(url.hostAndPort)" : url.scheme + url.hostAndPort
        return shown + path + (path.count < rest.count ? "?…" : "")
    }

    /// The parts of a URL that an error may show: its scheme (with `://`), and its host and port once its user
    /// and password are dropped, when they look like a host and a port (a port of digits).
    private struct ShownURL {
        let scheme: Substring
        let hostAndPort: Substring
        let hasUser: Bool
        /// Where the authority (user, host and port) ends in the text.
        let authorityEnd: String.Index

        init?(_ text: String) {
            guard let separator = text.firstRange(of: "://"),
                !text[..<separator.lowerBound].contains(where: { "/?#@".contains($0) })
            else { return nil }
            let authority = text[separator.upperBound...].prefix { !"/?#".contains($0) }
            // An `@` after the authority: a password holding `/`, `?` or `#` ended it early, so what follows may be
            // the rest of the password.
            guard !text[authority.endIndex...].contains("@") else { return nil }
            let hostAndPort = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? authority
            // `[::1]:5432` and `db:5432` have a port after their last colon outside brackets; `user:secret` does not,
            // and without an `@` neither does `admin:12345678` (a port, even a wrong one, has at most five digits).
            if let colon = hostAndPort.lastIndex(of: ":"), !hostAndPort[colon...].contains("]") {
                let port = hostAndPort[hostAndPort.index(after: colon)...]
                guard port.utf8.allSatisfy({ (0x30...0x39).contains($0) }), authority.contains("@") || port.count <= 5
                else { return nil }
            }
            scheme = text[..<separator.upperBound]
            self.hostAndPort = hostAndPort
            hasUser = authority.contains("@")
            authorityEnd = authority.endIndex
        }
    }

    /// `text` as browsers send it in `Origin` (scheme, host and port, in lower case; a trailing `/` and the scheme's
    /// default port dropped), `*` as it is, or `nil` when no browser would send it: a path, a query, credentials, no
    /// scheme or host, a port outside 1-65535 (or empty), or a host not in ASCII (browsers send punycode).
    static func origin(_ text: String) -> String? {
        if text == "*" { return text }
        let trimmed = (text.hasSuffix("/") ? String(text.dropLast()) : text).lowercased()
        guard trimmed.allSatisfy(\.isASCII), let components = URLComponents(string: trimmed),
            let scheme = components.scheme, !scheme.isEmpty, let host = components.host, !host.isEmpty,
            components.path.isEmpty, components.query == nil, components.fragment == nil, components.user == nil,
            components.password == nil, !trimmed.hasSuffix(":")
        else { return nil }
        guard let range = components.rangeOfPort, let portText = components.string?[range] else { return trimmed }
        guard let port = Int(portText), (1...65_535).contains(port) else { return nil }
        let defaultPort = ["http": 80, "https": 443][scheme]
        let withoutPort = trimmed.dropLast(portText.count + 1)
        return port == defaultPort ? String(withoutPort) : "\(withoutPort):\(port)"
    }

    static func parseStore(_ text: String) throws -> StoreSpec {
        // The text may be a mistyped URL with a password in it.
        let shown = text.contains("://") || text.contains("@") ? shownStoreURL(text) : text
        if text == "memory" { return .memory }
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else {
                throw Invalid(flag: "store", value: text, accepted: "sqlite: needs a path, e.g. sqlite:booking.sqlite")
            }
            guard path != ":memory:" else {
                throw Invalid(
                    flag: "store", value: text,
                    accepted: "sqlite: takes a file; for a store in memory, use --store memory")
            }
            return .sqlite(path: path)
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            // Read now, so a bad URL stops the start with what is wrong in it (the store reads it again to open).
            do {
                _ = try PostgresStore.Configuration(url: text)
            } catch {
                // A URL shown hidden may hold a password where the port or a parameter's name belongs, which the
                // detail would quote.
                let accepted =
                    shown == "(hidden)"
                    ? "must be a URL like postgres://user:pass@host:5432/db (a password with /, ? or # percent-encoded)"
                    : error.fieldErrors["store"] ?? error.message
                throw Invalid(flag: "store", value: shown, accepted: accepted)
            }
            return .postgres(url: text)
        }
        throw Invalid(
            flag: "store", value: shown, accepted: "must be memory, sqlite:PATH or postgres://user:pass@host:5432/db")
    }
}

extension ServerSettings.StoreSpec: CustomStringConvertible {
    /// The store without credentials, for logs.
    var description: String {
        switch self {
        case .memory: "memory"
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url):
            URLComponents(string: url).map { "postgres://\($0.host ?? "?"):\($0.port ?? 5432)\($0.path)" } ?? "postgres"
        }
    }
}
