import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import WebhookSender

/// Builds the Hummingbird application: routes, middleware, dispatcher and store services.
enum BookingApplication {
    /// The `Server` header of every answer.
    static let serverName = "swift-booking"

    /// The router alone: what in-process tests drive.
    ///
    /// `resources` are what `GET /api/resources` lists, in order: the ones `service` was made for.
    /// Calendar files' UIDs end in `@calendarDomain`; `calendarFeedSecret` turns the resources' feeds on, which reach
    /// `calendarFeedPastDays` back.
    static func router(
        service: BookingService, resources: [ConfiguredResource], adminToken: String, corsOrigins: [String],
        calendarDomain: String = ServerSettings.defaultCalendarDomain, calendarFeedSecret: String? = nil,
        calendarFeedPastDays: Int = ServerSettings.calendarFeedPastDays.fallback
    ) throws -> Router<BasicRequestContext> {
        let registry = MetricsRegistry.shared
        let router = Router(context: BasicRequestContext.self)
        router.add(
            middleware: RequestLogMiddleware(
                level: .info, secretParameters: ["secret", "token"],
                secrets: [adminToken] + (calendarFeedSecret.map { [$0] } ?? []),
                knownSegments: Set(resources.map(\.id.rawValue))))
        router.add(middleware: RequestMetricsMiddleware())
        if !corsOrigins.isEmpty {
            let exposedHeaders: [HTTPField.Name] = [.idempotentReplayed, .retryAfter]
            if !corsOrigins.contains("*") {
                router.add(middleware: AllowedOriginsMiddleware(origins: Set(corsOrigins)))
            }
            router.add(
                middleware: CORSMiddleware(
                    allowOrigin: corsOrigins.contains("*") ? .all : .originBased,
                    allowHeaders: [.accept, .authorization, .contentType, .origin, .idempotencyKey, .cancelToken],
                    allowMethods: [.get, .post, .delete, .options],
                    exposedHeaders: exposedHeaders.map(\.rawName)))
            router.add(middleware: ExposedHeadersMiddleware(headers: exposedHeaders))
        }
        router.add(middleware: APIErrorMiddleware(clock: service.clock))
        BookingAPI(
            service: service, resources: resources, admin: AdminCredential(token: adminToken),
            calendarFiles: CalendarFiles(domain: calendarDomain, resources: resources),
            feedCredential: calendarFeedSecret.map {
                CalendarFeedCredential(secret: $0, resources: resources.map(\.id))
            },
            feedReach: .seconds(calendarFeedPastDays * 86_400)
        ).addRoutes(to: router)
        router.getAndHead("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        WebPage.load().addRoutes(to: router)
        router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes))
        return router
    }

    /// The booking service of a host that serves exactly `resources`, each on its own schedule.
    ///
    /// Any other resource name is not configured and answers 404: a resource the host never set up
    /// must not open a second calendar for the same real slots. Ids are unique (the settings check).
    /// A hold keeps its slot for `holdDuration` (`--hold-minutes`).
    static func service(
        store: any BookingStore, resources: [ConfiguredResource], clock: any WallClock = SystemWallClock(),
        holdDuration: Duration = .minutes(ScheduleLimits.holdMinutes.fallback), logger: Logger
    ) -> BookingService {
        let schedules = Dictionary(resources.map { ($0.id, $0.schedule) }, uniquingKeysWith: { first, _ in first })
        return BookingService(
            store: store,
            configuration: .init(defaultSchedule: nil, schedules: schedules, holdDuration: holdDuration), clock: clock,
            logger: logger)
    }

    /// The whole server, as one `ServiceGroup` that stops in reverse order: the store (its pool and
    /// listener), the notification dispatcher, then HTTP. The store is migrated before HTTP listens;
    /// the dispatcher migrates it too before its first poll (idempotent, safe concurrently).
    static func make(
        settings: ServerSettings, store: any BookingStore, adminToken: String,
        clock: any WallClock = SystemWallClock(), logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        // Bootstraps the metrics system before anything makes a metric: the dispatcher makes its own when created, and
        // a metric made before the bootstrap would stay a no-op.
        _ = MetricsRegistry.shared
        let service = Self.service(
            store: store, resources: settings.resources, clock: clock, holdDuration: settings.holdDuration,
            logger: logger)
        let sender: any NotificationSender
        var dispatching = NotificationDispatcher.Configuration()
        if let url = settings.webhookURL, !settings.webhookSecrets.isEmpty {
            var calendar: (@Sendable (NotificationDelivery) -> String)?
            if settings.webhookCalendar {
                let files = CalendarFiles(domain: settings.calendarDomain, resources: settings.resources)
                calendar = { delivery in files.message(for: delivery.appointment, now: clock.now()) }
            }
            sender = WebhookNotificationSender(
                configuration: try .init(url: url, secrets: settings.webhookSecrets, calendar: calendar), clock: clock)
        } else {
            sender = LoggingNotificationSender(logger: logger)
            // A log line keeps no receiver waiting: a pass claims a whole batch of 20 and writes it at once, and
            // waits 25 ms after a wake-up so that bookings committed together go in one pass. Under load the outbox
            // then costs a claim and about two outcome statements per 20 bookings rather than per few. (Batches of
            // 50 did better at 8 connections on PostgreSQL and worse at 64, on PostgreSQL and in memory.)
            dispatching.concurrentSends = dispatching.batchSize
            dispatching.coalescingDelay = .milliseconds(25)
        }
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender, configuration: dispatching, clock: clock, logger: logger,
            workerID: settings.dispatcherID)
        var app = Application(
            router: try router(
                service: service, resources: settings.resources, adminToken: adminToken,
                corsOrigins: settings.corsOrigins, calendarDomain: settings.calendarDomain,
                calendarFeedSecret: settings.calendarFeedSecret, calendarFeedPastDays: settings.calendarFeedPastDays),
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [UnparsableRequestHandler(serverName: serverName)],
                    idleTimeout: TimeAmount(settings.idleTimeout))),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: serverName),
            services: [store, dispatcher], onServerRunning: onServerRunning, logger: logger)
        app.beforeServerStarts { try await store.migrate() }
        return app
    }
}
