import ArgumentParser
import Foundation
import Testing

@testable import BookingServer

@Suite("server settings: calendar files, feed and webhook attachment", .cpuBound)
struct CalendarSettingsTests {
    func settings(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ServerSettings {
        try ServerSettings(options: ServerOptions.parse(arguments), environment: environment)
    }

    let webhook = [
        "--webhook-url", "https://hooks.example/booking", "--webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ]

    @Test("by default UIDs end in @localhost, the feed is off and webhooks carry no calendar file")
    func defaults() throws {
        let settings = try settings([])
        #expect(settings.calendarDomain == "localhost")
        #expect(settings.calendarFeedSecret == nil)
        #expect(!settings.webhookCalendar)
    }

    @Test("each calendar setting reads BOOKING_* from the environment, and a flag wins over it")
    func environment() throws {
        let environment = [
            "BOOKING_CALENDAR_DOMAIN": "Booking.Example.com",
            "BOOKING_CALENDAR_FEED_SECRET": "env-feed-secret-0123456789",
            "BOOKING_WEBHOOK_CALENDAR": "true",
        ]
        let fromEnvironment = try settings(webhook, environment)
        #expect(fromEnvironment.calendarDomain == "booking.example.com")
        #expect(fromEnvironment.calendarFeedSecret == "env-feed-secret-0123456789")
        #expect(fromEnvironment.webhookCalendar)
        let flags = try settings(
            webhook + [
                "--calendar-domain", "cal.example.org", "--calendar-feed-secret", "flag-feed-secret-0123456789",
            ],
            environment.merging(["BOOKING_WEBHOOK_CALENDAR": "false"]) { $1 })
        #expect(flags.calendarDomain == "cal.example.org")
        #expect(flags.calendarFeedSecret == "flag-feed-secret-0123456789")
        #expect(!flags.webhookCalendar)
        #expect(try settings(webhook + ["--webhook-calendar"]).webhookCalendar)
        // The flag wins both ways: --no-webhook-calendar turns off what the variable turned on.
        #expect(!(try settings(webhook + ["--no-webhook-calendar"], environment).webhookCalendar))
        #expect(
            try settings(webhook + ["--webhook-calendar"], ["BOOKING_WEBHOOK_CALENDAR": "false"]).webhookCalendar)
    }

    @Test(
        "a bad calendar setting names the flag and its variable and never shows the feed secret",
        arguments: [
            (
                ["--calendar-feed-secret", "fifteen-chars.."], [:],
                "--calendar-feed-secret '(hidden)' (or BOOKING_CALENDAR_FEED_SECRET)"
            ),
            ([], ["BOOKING_CALENDAR_FEED_SECRET": "a/secret/with/slashes"], "--calendar-feed-secret '(hidden)'"),
            (["--calendar-feed-secret", "sixteen chars ok?"], [:], "letters, digits"),
            (["--webhook-calendar"], [:], "needs --webhook-url"),
            ([], ["BOOKING_WEBHOOK_CALENDAR": "maybe"], "--webhook-calendar 'maybe' (or BOOKING_WEBHOOK_CALENDAR)"),
            (
                ["--calendar-domain", "booking example"], [:],
                "--calendar-domain 'booking example' (or BOOKING_CALENDAR_DOMAIN)"
            ),
            (["--calendar-domain=-bad.example"], [:], "a domain name"),
        ] as [([String], [String: String], String)])
    func invalid(arguments: [String], environment: [String: String], expected: String) {
        let error = #expect(throws: ServerSettings.Invalid.self) { try settings(arguments, environment) }
        let line = error?.description ?? ""
        #expect(line.contains(expected), "\(line)")
        #expect(!line.contains("fifteen") && !line.contains("slashes") && !line.contains("chars ok"), "\(line)")
    }
}
