import BookingDomain
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import WebhookSender

/// Builds the Hummingbird application: routes, middleware, dispatcher and store services.
enum BookingApplication {
    /// The router alone: what in-process tests drive.
    static func router(service: BookingService, adminToken: String, corsOrigins: [String]) throws -> Router<
        BasicRequestContext
    > {
        let registry = MetricsRegistry.shared
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: LogRequestsMiddleware(.info))
        router.add(middleware: MetricsMiddleware())
        if !corsOrigins.isEmpty {
            if !corsOrigins.contains("*") {
                router.add(middleware: AllowedOriginsMiddleware(origins: Set(corsOrigins)))
            }
            router.add(
                middleware: CORSMiddleware(
                    allowOrigin: corsOrigins.contains("*") ? .all : .originBased,
                    allowHeaders: [.accept, .authorization, .contentType, .origin, .idempotencyKey, .cancelToken],
                    allowMethods: [.get, .post, .options]))
        }
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware())
        BookingAPI(service: service, admin: AdminCredential(token: adminToken)).addRoutes(to: router)
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        try WebPage.load().addRoutes(to: router)
        return router
    }

    /// The whole server: HTTP, the notification dispatcher (after migrations) and the store's services.
    static func make(
        settings: ServerSettings, opened: OpenedStore, adminToken: String, clock: any WallClock = SystemWallClock(),
        logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let service = BookingService(
            store: opened.store, configuration: .init(defaultSchedule: settings.schedule), clock: clock, logger: logger)
        let sender: any NotificationSender
        if let url = settings.webhookURL, !settings.webhookSecrets.isEmpty {
            sender = WebhookNotificationSender(
                configuration: try .init(url: url, secrets: settings.webhookSecrets), clock: clock)
        } else {
            sender = LoggingNotificationSender(logger: logger)
        }
        let gate = MigrationGate(opened.migrate)
        let dispatcher = NotificationDispatcher(store: opened.store, sender: sender, clock: clock, logger: logger)
        var app = Application(
            router: try router(service: service, adminToken: adminToken, corsOrigins: settings.corsOrigins),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "swift-booking"),
            services: opened.services + [AfterMigrations(gate: gate, service: dispatcher)],
            onServerRunning: onServerRunning, logger: logger)
        app.beforeServerStarts { try await gate.wait() }
        return app
    }
}
