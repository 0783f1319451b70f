import ArgumentParser

/// The command-line flags of `serve` beyond ``StoreOptions``; each falls back to `BOOKING_<FLAG>`. `migrate` accepts
/// them too, unlisted in its help, so one command line or environment serves both commands.
struct ServingOptions: ParsableArguments {
    @Option(help: "Address to listen on (BOOKING_HOST; default 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on, 0 for any free port (BOOKING_PORT; default 4000)")
    var port: String?

    @Option(
        name: .customLong("cors-origin"),
        help: "Allowed browser origins, comma-separated, or * (BOOKING_CORS_ORIGIN; default none)")
    var corsOrigin: String?

    @Option(
        name: .customLong("admin-token"),
        help:
            "Bearer token for admin routes, at least 16 characters (BOOKING_ADMIN_TOKEN; default: generated and printed once to standard error)"
    )
    var adminToken: String?

    @Option(
        help: ArgumentHelp(
            "A JSON resources file: several resources, each with its own schedule and date overrides; not with the schedule flags (BOOKING_CONFIG; default: the one resource `default` the schedule flags describe)",
            valueName: "file"))
    var config: String?

    @Option(name: .customLong("time-zone"), help: "IANA time zone of the hours (BOOKING_TIME_ZONE; default UTC)")
    var timeZone: String?

    @Option(
        help:
            "Weekly hours, e.g. \"mon-fri=09:00-12:00,13:00-17:00;sat=10:00-14:00\" (BOOKING_HOURS; default daily=09:00-17:00)"
    )
    var hours: String?

    @Option(name: .customLong("slot-minutes"), help: "Slot length in minutes (BOOKING_SLOT_MINUTES; default 30)")
    var slotMinutes: String?

    @Option(name: .customLong("days-ahead"), help: "Booking horizon in days (BOOKING_DAYS_AHEAD; default 7)")
    var daysAhead: String?

    @Option(
        name: .customLong("min-notice-minutes"),
        help: "Minimum notice in minutes (BOOKING_MIN_NOTICE_MINUTES; default 0)")
    var minNoticeMinutes: String?

    @Option(
        name: .customLong("buffer-minutes"),
        help:
            "Free minutes kept before and after each appointment, so two appointments are at least twice this apart (BOOKING_BUFFER_MINUTES; default 0)"
    )
    var bufferMinutes: String?

    @Option(
        name: .customLong("reminder-minutes"),
        help:
            "Reminders before each appointment's start, in minutes, comma-separated, e.g. 1440,60 (BOOKING_REMINDER_MINUTES; default none)"
    )
    var reminderMinutes: String?

    @Option(
        name: .customLong("capacity"),
        help: "Seats per slot: how many bookings may share one slot, 1-10000 (BOOKING_CAPACITY; default 1)")
    var capacity: String?

    @Option(
        name: .customLong("daily-limit"),
        help:
            "At most this many bookings per local day of the time zone, 1-100000 (BOOKING_DAILY_LIMIT; default no limit)"
    )
    var dailyLimit: String?

    @Option(
        name: .customLong("weekly-limit"),
        help:
            "At most this many bookings per ISO week (Monday to Sunday) of the time zone, 1-100000 (BOOKING_WEEKLY_LIMIT; default no limit)"
    )
    var weeklyLimit: String?

    @Option(
        name: .customLong("hold-minutes"),
        help:
            "How long POST /api/holds keeps a slot for its holder, in minutes, 1-60; for every resource (BOOKING_HOLD_MINUTES; default 5)"
    )
    var holdMinutes: String?

    @Option(
        name: .customLong("webhook-url"),
        help: "Deliver notifications by POSTing to this URL (BOOKING_WEBHOOK_URL; default: log them)")
    var webhookURL: String?

    @Option(
        name: .customLong("webhook-secret"),
        help: "Standard Webhooks signing secret(s), whsec_..., space- or comma-separated (BOOKING_WEBHOOK_SECRET)")
    var webhookSecret: String?

    @Flag(
        name: .customLong("webhook-calendar"), inversion: .prefixedNo,
        help:
            "Attach the appointment's iCalendar file to each webhook payload as `calendar` (BOOKING_WEBHOOK_CALENDAR=true; default off; --no-webhook-calendar turns off what the variable turned on)"
    )
    var webhookCalendar: Bool?

    @Option(
        name: .customLong("calendar-domain"),
        help:
            "The domain of calendar files' UIDs, appointment-<id>-<created>@DOMAIN: one this deployment owns (BOOKING_CALENDAR_DOMAIN; default localhost)"
    )
    var calendarDomain: String?

    @Option(
        name: .customLong("calendar-feed-secret"),
        help:
            "Turns on the read-only calendar feed of each resource for holders of this secret: at least 16 letters, digits, '-', '_', '.' or '~' (BOOKING_CALENDAR_FEED_SECRET; default: no feed)"
    )
    var calendarFeedSecret: String?

    @Option(
        name: .customLong("calendar-feed-past-days"),
        help:
            "How many days back a calendar feed reaches: appointments that started earlier are left out, 0-3660 (BOOKING_CALENDAR_FEED_PAST_DAYS; default 90)"
    )
    var calendarFeedPastDays: String?

    @Option(
        name: .customLong("dispatcher-id"),
        help:
            "This instance's notification dispatcher identity: stable and unique per instance, e.g. the container or unit name, so a restart takes back its leases at once (BOOKING_DISPATCHER_ID; default: random per process)"
    )
    var dispatcherID: String?

    @Option(
        name: .customLong("shutdown-timeout-seconds"),
        help:
            "How long SIGTERM or SIGINT waits for the requests and sends in flight before cutting them off, 1-3600 (BOOKING_SHUTDOWN_TIMEOUT_SECONDS; default 8, within Docker's 10 s)"
    )
    var shutdownTimeoutSeconds: String?

    @Option(
        name: .customLong("idle-timeout-seconds"),
        help:
            "How long a connection may read nothing while no request of it is being answered (between requests, or before a request's head is whole or its body's next part arrives) before it is closed, 1-3600 (BOOKING_IDLE_TIMEOUT_SECONDS; default 75)"
    )
    var idleTimeoutSeconds: String?

    /// The flags given on the command line, by flag name.
    var given: [String: String] {
        let all: [String: String?] = [
            "host": host, "port": port, "cors-origin": corsOrigin, "admin-token": adminToken,
            "config": config, "time-zone": timeZone, "hours": hours, "slot-minutes": slotMinutes,
            "days-ahead": daysAhead,
            "min-notice-minutes": minNoticeMinutes, "buffer-minutes": bufferMinutes,
            "reminder-minutes": reminderMinutes, "capacity": capacity, "daily-limit": dailyLimit,
            "weekly-limit": weeklyLimit, "hold-minutes": holdMinutes, "webhook-url": webhookURL,
            "webhook-secret": webhookSecret, "webhook-calendar": webhookCalendar.map { $0 ? "true" : "false" },
            "calendar-domain": calendarDomain, "calendar-feed-secret": calendarFeedSecret,
            "calendar-feed-past-days": calendarFeedPastDays,
            "dispatcher-id": dispatcherID,
            "shutdown-timeout-seconds": shutdownTimeoutSeconds, "idle-timeout-seconds": idleTimeoutSeconds,
        ]
        return all.compactMapValues { $0 }
    }
}
