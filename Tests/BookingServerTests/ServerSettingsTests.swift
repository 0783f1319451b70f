import ArgumentParser
import BookingDomain
import Foundation
import Testing

@testable import BookingServer

@Suite("server settings", .cpuBound)
struct ServerSettingsTests {
    func settings(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ServerSettings {
        try ServerSettings(options: ServerOptions.parse(arguments), environment: environment)
    }

    @Test("defaults: SQLite in the working directory, 127.0.0.1:4000, the seed's schedule in UTC")
    func defaults() throws {
        let settings = try settings([])
        #expect(settings.store == .sqlite(path: "booking.sqlite"))
        #expect(settings.host == "127.0.0.1" && settings.port == 4000)
        #expect(settings.resources.map(\.id) == [.default])
        let schedule = try #require(settings.resources.first?.schedule)
        #expect(schedule.slotLength == .minutes(30) && schedule.horizon == .seconds(7 * 86_400))
        #expect(schedule.reminderLeads == [], "no reminders unless asked for")
        #expect(schedule.capacity == 1 && schedule.dailyLimit == nil && schedule.weeklyLimit == nil)
        #expect(settings.holdDuration == .minutes(5))
        #expect(settings.adminToken == nil)
        #expect(settings.resources.map(\.timeZoneName) == ["UTC"], "named as configured, not as Foundation names it")
    }

    @Test(
        "the zone is named as configured: UTC stays UTC and GMT stays GMT, though Foundation on Linux says GMT for both"
    )
    func zoneNamedAsConfigured() throws {
        #expect(try settings(["--time-zone", "UTC"]).resources.map(\.timeZoneName) == ["UTC"])
        #expect(try settings(["--time-zone", "GMT"]).resources.map(\.timeZoneName) == ["GMT"])
        #expect(try settings([], ["BOOKING_TIME_ZONE": "Etc/UTC"]).resources.map(\.timeZoneName) == ["Etc/UTC"])
        #expect(try settings(["--time-zone", "Europe/London"]).resources.map(\.timeZoneName) == ["Europe/London"])
    }

    @Test(
        "a zone is an IANA name: an abbreviation that is no zone, or an offset, is refused naming what to write"
    )
    func zoneNamesOnly() throws {
        for (name, advice) in [
            (
                "PST",
                "PST is an abbreviation, which can mean more than one zone (Foundation reads BST as Bangladesh's): write America/Los_Angeles, say"
            ),
            ("BST", "write Europe/London"), ("IST", "write Asia/Kolkata"),
            ("UTC+5", "UTC+5 is an offset: write a city's zone, or Etc/GMT-5 for UTC+5"), ("GMT-0530", "is an offset"),
        ] {
            let error = #expect(throws: ServerSettings.Invalid.self, "\(name)") { try settings(["--time-zone", name]) }
            #expect(error?.description.contains("must be an IANA zone like Europe/London or UTC; \(name)") == true)
            #expect(error?.description.contains(advice) == true, "\(error?.description ?? "")")
        }
        // IANA's own fixed zones are kept: Etc/GMT-5 is UTC+5.
        let fixed = try #require(try settings(["--time-zone", "Etc/GMT-5"]).resources.first?.schedule.timeZone)
        #expect(fixed.secondsFromGMT(for: Date(timeIntervalSince1970: 0)) == 5 * 3600)
        #expect(try settings(["--time-zone", "GMT+0"]).resources.map(\.timeZoneName) == ["GMT+0"])
        // Abbreviations that are zones of the database themselves stay zones.
        for zone in ["CET", "EST", "MST", "WET"] {
            #expect(try settings(["--time-zone", zone]).resources.map(\.timeZoneName) == [zone])
        }
    }

    @Test("capacity, booking limits and hold minutes come from flags or BOOKING_*, and a flag wins")
    func capacityLimitsAndHolds() throws {
        let environment = [
            "BOOKING_CAPACITY": "3", "BOOKING_DAILY_LIMIT": "8", "BOOKING_WEEKLY_LIMIT": "30",
            "BOOKING_HOLD_MINUTES": "10",
        ]
        let fromEnvironment = try settings([], environment)
        let schedule = try #require(fromEnvironment.resources.first?.schedule)
        #expect(schedule.capacity == 3 && schedule.dailyLimit == 8 && schedule.weeklyLimit == 30)
        #expect(fromEnvironment.holdDuration == .minutes(10))
        let flags = try settings(
            ["--capacity", "5", "--daily-limit", "2", "--hold-minutes", "1"], environment)
        let flagSchedule = try #require(flags.resources.first?.schedule)
        #expect(flagSchedule.capacity == 5 && flagSchedule.dailyLimit == 2)
        #expect(flagSchedule.weeklyLimit == 30, "the flag not given: the environment's value")
        #expect(flags.holdDuration == .minutes(1))
        #expect(
            fromEnvironment.shutdownTimeout == .seconds(8) && fromEnvironment.calendarFeedPastDays == 90, "defaults")
        #expect(fromEnvironment.idleTimeout == .seconds(75), "default")
        let stopping = try settings(
            ["--shutdown-timeout-seconds", "30", "--idle-timeout-seconds", "3600"],
            [
                "BOOKING_SHUTDOWN_TIMEOUT_SECONDS": "3", "BOOKING_CALENDAR_FEED_PAST_DAYS": "0",
                "BOOKING_IDLE_TIMEOUT_SECONDS": "5",
            ])
        #expect(stopping.shutdownTimeout == .seconds(30) && stopping.calendarFeedPastDays == 0)
        #expect(stopping.idleTimeout == .seconds(3600), "the flag wins")
        #expect(try settings([], ["BOOKING_IDLE_TIMEOUT_SECONDS": "1"]).idleTimeout == .seconds(1))
        let extremes = try settings(["--capacity", "10000", "--daily-limit", "100000", "--hold-minutes", "60"])
        #expect(extremes.resources.first?.schedule.capacity == 10_000)
        #expect(extremes.resources.first?.schedule.dailyLimit == 100_000 && extremes.holdDuration == .minutes(60))
    }

    @Test("every setting reads BOOKING_* from the environment, and a flag wins over it")
    func environment() throws {
        let environment = [
            "BOOKING_STORE": "memory", "BOOKING_PORT": "4100", "BOOKING_TIME_ZONE": "Europe/London",
            "BOOKING_HOURS": "mon-fri=09:00-12:00,13:00-17:00;sat=10:00-14:00", "BOOKING_SLOT_MINUTES": "20",
            "BOOKING_DAYS_AHEAD": "14", "BOOKING_MIN_NOTICE_MINUTES": "60", "BOOKING_BUFFER_MINUTES": "10",
            "BOOKING_REMINDER_MINUTES": "1440, 60",
            "BOOKING_ADMIN_TOKEN": "env-admin-token-0123456789", "BOOKING_LOG_FORMAT": "json",
            "BOOKING_CORS_ORIGIN": "https://a.example,https://b.example",
            "BOOKING_WEBHOOK_URL": "https://hooks.example/booking",
            "BOOKING_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ]
        let fromEnvironment = try settings([], environment)
        let schedule = try #require(fromEnvironment.resources.first?.schedule)
        #expect(fromEnvironment.store == .memory)
        #expect(fromEnvironment.port == 4100)
        #expect(schedule.timeZone.identifier == "Europe/London")
        #expect(schedule.weeklyHours[.saturday]?.map(\.description) == ["10:00-14:00"])
        #expect(schedule.weeklyHours[.sunday] == nil)
        #expect(schedule.slotLength == .minutes(20))
        #expect(schedule.minimumNotice == .minutes(60))
        #expect(schedule.reminderLeads == [.minutes(1440), .minutes(60)])
        #expect(
            schedule.bufferBefore == .minutes(10)
                && schedule.bufferAfter == .minutes(10))
        #expect(fromEnvironment.adminToken == "env-admin-token-0123456789")
        #expect(fromEnvironment.logFormat == .json)
        #expect(fromEnvironment.corsOrigins == ["https://a.example", "https://b.example"])
        #expect(fromEnvironment.webhookSecrets.count == 1)
        // Origins as browsers send them: a trailing slash dropped, scheme and host in lower case.
        #expect(
            try settings(["--cors-origin", "https://A.example/, http://localhost:3000,*,https://b.example:443"])
                .corsOrigins == ["https://a.example", "http://localhost:3000", "*", "https://b.example"])
        #expect(try settings(["--cors-origin", "http://[::1]:3000"]).corsOrigins == ["http://[::1]:3000"])
        #expect(try settings(["--cors-origin", "http://localhost:03000"]).corsOrigins == ["http://localhost:3000"])
        for origin in ["http://localhost:", "https://a.example:0", "https://a.example:99999", "https://bücher.example"]
        {
            #expect(throws: ServerSettings.Invalid.self, "\(origin)") { try settings(["--cors-origin", origin]) }
        }
        let flagWins = try settings(["--port", "5000", "--store", "sqlite:other.sqlite"], environment)
        #expect(flagWins.port == 5000)
        #expect(flagWins.store == .sqlite(path: "other.sqlite"))
        let flagReminders = try settings(["--reminder-minutes", "30"], environment)
        #expect(flagReminders.resources.first?.schedule.reminderLeads == [.minutes(30)])
    }

    @Test(
        "a bad setting names the flag, its environment variable and what is accepted",
        arguments: [
            (["--port", "http"], "--port 'http' (or BOOKING_PORT)"),
            (["--days-ahead", "0"], "--days-ahead '0' (or BOOKING_DAYS_AHEAD)"),
            (["--time-zone", "Nowhere/City"], "IANA zone"),
            (["--store", "mysql://x"], "memory, sqlite:PATH or postgres://"),
            (["--store", "postgress://booking:hunter2@db:5432/booking"], "'(hidden)@db:5432/booking'"),
            (["--webhook-url", "https://hooks.example"], "--webhook-secret"),
            (
                ["--webhook-url", "http://127.0.0.1:70000/hook"],
                "invalid --webhook-url 'http://127.0.0.1:70000/…' (or BOOKING_WEBHOOK_URL): has port 70000; a port is 1 to 65535"
            ),
            (
                ["--store", "postgres://booking:hunter2@db:99999/booking"],
                "invalid --store '(hidden)@db:99999/booking' (or BOOKING_STORE): has port 99999; a port is 1 to 65535"
            ),
            (["--store", "postgres://booking:hunter2@db/booking?sslmode=bogus"], "sslmode must be disable, allow"),
            (["--webhook-url", "ftp://hooks.example/hunter2"], "invalid --webhook-url 'ftp://hooks.example/…'"),
            (["--webhook-url", "hooks.example/hunter2"], "invalid --webhook-url '(hidden)'"),
            (
                ["--webhook-url", "https://u:hunter2@hooks.example:70000/x"],
                "invalid --webhook-url 'https://hooks.example:70000/…'"
            ),
            (["--webhook-url", "hooks.example/x?next=https://evil/hunter2"], "invalid --webhook-url '(hidden)'"),
            (["--store", "postgres://booking:hunter2@db/booking?foo=1"], "accepts only the query parameters"),
            (
                ["--store", "postgres://db/booking?password=hunter2"],
                "invalid --store 'postgres://db/booking?…' (or BOOKING_STORE): accepts only the query parameters"
            ),
            (["--store", "postgres://booking:hunter2/db/booking"], "invalid --store '(hidden)' (or BOOKING_STORE)"),
            (["--store", "postgres://[::1]:5432/booking?x=1"], "invalid --store 'postgres://[::1]:5432/booking?…'"),
            (["--store", "postgres://admin:12345678"], "invalid --store '(hidden)' (or BOOKING_STORE): must be a URL"),
            (["--store", "postgres://user:2024/hunter2@db/x"], "invalid --store '(hidden)'"),
            (
                ["--store", "postgres://user:12?hunter2@db/x"],
                "invalid --store '(hidden)' (or BOOKING_STORE): must be a URL"
            ),
            (["--store", "memroy"], "invalid --store 'memroy' (or BOOKING_STORE): must be memory, sqlite:PATH"),
            (["--webhook-url", "https://u:hunter2/hook"], "invalid --webhook-url '(hidden)'"),
            (["--host", "999.1.1.1"], "invalid --host '999.1.1.1' (or BOOKING_HOST): must be an address or a name"),
            (["--hours", ";;"], "invalid --hours ';;' (or BOOKING_HOURS): must look like mon-fri=09:00-12:00"),
            (["--cors-origin", "https://a.example/app"], "invalid --cors-origin 'https://a.example/app'"),
            (["--cors-origin", "a.example"], "invalid --cors-origin 'a.example'"),
            (["--cors-origin", "https://a.example?x=1"], "invalid --cors-origin"),
            (["--webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "invalid --webhook-secret '(hidden)'"),
            (["--log-level", "loud"], "--log-level"),
            (["--reminder-minutes", "60\n30"], "--reminder-minutes '60\\n30'"),
            (["--hours", "bogus\nx\u{1B}[31m"], "--hours 'bogus\\nx\\u{1B}[31m'"),
            (
                ["--hours", "daily=closed"],
                "(no day is open for one slot of 30 minutes: nothing would ever be offered)"
            ),
            (
                ["--hours", "daily=09:00-09:30", "--slot-minutes", "60"],
                "--hours 'daily=09:00-09:30' (or BOOKING_HOURS): must look like mon-fri=09:00-12:00,13:00-17:00;sat=10:00-14:00 (no day is open for one slot of 60 minutes: nothing would ever be offered)"
            ),
            (
                ["--hours", "mon=09:00-12:00,11:00-13:00"],
                "--hours 'mon=09:00-12:00,11:00-13:00' (or BOOKING_HOURS): must look like mon-fri=09:00-12:00,13:00-17:00;sat=10:00-14:00 (intervals on mon overlap)"
            ),
            (
                ["--reminder-minutes", "1440,abc"],
                "--reminder-minutes '1440,abc' (or BOOKING_REMINDER_MINUTES): must be at most 20 distinct whole numbers of minutes from 1 to 527040 before the start, like 1440,60"
            ),
            (
                ["--reminder-minutes", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21"],
                "(or BOOKING_REMINDER_MINUTES): must be at most 20 distinct whole numbers"
            ),
            (["--reminder-minutes", "60,60"], "--reminder-minutes '60,60'"),
            (["--reminder-minutes", "0"], "--reminder-minutes '0'"),
            (["--reminder-minutes", "600000"], "--reminder-minutes '600000'"),
            (
                ["--capacity", "0"],
                "invalid --capacity '0' (or BOOKING_CAPACITY): must be a whole number from 1 to 10000"
            ),
            (["--capacity", "two"], "--capacity 'two' (or BOOKING_CAPACITY)"),
            (
                ["--daily-limit", "0"],
                "invalid --daily-limit '0' (or BOOKING_DAILY_LIMIT): must be a whole number from 1 to 100000"
            ),
            (["--weekly-limit", "100001"], "--weekly-limit '100001' (or BOOKING_WEEKLY_LIMIT)"),
            (
                ["--hold-minutes", "0"],
                "invalid --hold-minutes '0' (or BOOKING_HOLD_MINUTES): must be a whole number from 1 to 60"
            ),
            (["--hold-minutes", "61"], "--hold-minutes '61' (or BOOKING_HOLD_MINUTES)"),
            (
                ["--shutdown-timeout-seconds", "0"],
                "invalid --shutdown-timeout-seconds '0' (or BOOKING_SHUTDOWN_TIMEOUT_SECONDS): must be a whole number from 1 to 3600"
            ),
            (["--shutdown-timeout-seconds", "2.5"], "--shutdown-timeout-seconds '2.5'"),
            (
                ["--idle-timeout-seconds", "0"],
                "invalid --idle-timeout-seconds '0' (or BOOKING_IDLE_TIMEOUT_SECONDS): must be a whole number from 1 to 3600"
            ),
            (["--idle-timeout-seconds", "3601"], "--idle-timeout-seconds '3601'"),
            (
                ["--store", "sqlite::memory:"],
                "invalid --store 'sqlite::memory:' (or BOOKING_STORE): sqlite: takes a file; for a store in memory, use --store memory"
            ),
            (
                ["--calendar-feed-past-days=-1"],
                "invalid --calendar-feed-past-days '-1' (or BOOKING_CALENDAR_FEED_PAST_DAYS): must be a whole number from 0 to 3660"
            ),
            (["--hold-minutes", "1.5"], "--hold-minutes '1.5'"),
            (
                ["--days-ahead", "1", "--min-notice-minutes", "1420"],
                "invalid --min-notice-minutes '1420' (or BOOKING_MIN_NOTICE_MINUTES): at most --days-ahead less one slot "
                    + "(1410 minutes here), or no slot is ever offered"
            ),
        ])
    func invalid(arguments: [String], expected: String) {
        let error = #expect(throws: ServerSettings.Invalid.self) { try settings(arguments) }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("hunter2") == false, "a password in the store URL is never shown")
        #expect(error?.description.contains("\n") == false, "one line")
    }

    @Test("an admin token shorter than 16 characters is refused; an empty one means: generate one")
    func adminTokens() throws {
        for (arguments, environment) in [
            (["--admin-token", "short"], [:]), ([], ["BOOKING_ADMIN_TOKEN": "fifteen-chars.."]),
        ] as [([String], [String: String])] {
            let error = #expect(throws: ServerSettings.Invalid.self) { try settings(arguments, environment) }
            let description = error?.description ?? ""
            #expect(description.contains("--admin-token") && description.contains("BOOKING_ADMIN_TOKEN"))
            #expect(description.contains("at least 16 characters"))
            #expect(!description.contains("short") && !description.contains("fifteen"), "the token is not printed")
        }
        #expect(try settings([], ["BOOKING_ADMIN_TOKEN": ""]).adminToken == nil)
        #expect(try settings(["--admin-token", ""]).adminToken == nil)
        #expect(try settings(["--admin-token", "sixteen-chars..."]).adminToken == "sixteen-chars...")
    }

    @Test("an empty flag is not set: the environment is read for it, not the default")
    func emptyFlagReadsTheEnvironment() throws {
        let environment = [
            "BOOKING_STORE": "memory", "BOOKING_PORT": "4321", "BOOKING_ADMIN_TOKEN": "sixteen-chars...",
            "BOOKING_SLOT_MINUTES": "15",
        ]
        let read = try settings(
            ["--store", "", "--port", "", "--admin-token", "", "--slot-minutes", ""], environment)
        #expect(read.store == .memory)
        #expect(read.port == 4321)
        #expect(read.adminToken == "sixteen-chars...")
        #expect(read.resources.first?.schedule.slotLength == .minutes(15))
    }

    @Test("several webhook secrets, separated by spaces or commas, are all accepted for rotation")
    func webhookSecrets() throws {
        let new = "whsec_" + Data(repeating: 1, count: 32).base64EncodedString()
        let old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        for text in ["\(new) \(old)", "\(new),\(old)", " \(new) , \(old) "] {
            let settings = try settings(["--webhook-url", "https://hooks.example/booking", "--webhook-secret", text])
            #expect(settings.webhookSecrets.count == 2, "\(text)")
        }
        let fromEnvironment = try settings(
            [], ["BOOKING_WEBHOOK_URL": "https://hooks.example/booking", "BOOKING_WEBHOOK_SECRET": "\(new), \(old)"])
        #expect(fromEnvironment.webhookSecrets.count == 2)
    }

    @Test(
        "a bad webhook secret stops start-up with one line that explains it and never shows the secret",
        arguments: [
            ("s3cret-plain", "must start with whsec_"),
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_c2hvcnQtc2VjcmV0", "fewer than the 24 required"),
            (
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw,whsec_%%%",
                "secret 2 of 2 must be whsec_ followed by valid base64"
            ),
        ])
    func badWebhookSecret(text: String, expected: String) {
        let error = #expect(throws: ServerSettings.Invalid.self) {
            try settings(["--webhook-url", "https://hooks.example/booking", "--webhook-secret", text])
        }
        let line = error?.description ?? ""
        #expect(line.hasPrefix("invalid --webhook-secret '(hidden)' (or BOOKING_WEBHOOK_SECRET): "), "\(line)")
        #expect(line.contains(expected), "\(line)")
        #expect(line.contains("openssl rand -base64 32"), "\(line)")
        #expect(!line.contains("s3cret") && !line.contains("MfKQ9r8") && !line.contains("c2hvcnQ"), "\(line)")
        #expect(!line.contains("\n"))
    }
}
