public import Logging

/// The seed's behaviour and the default sender: logs each notification instead of delivering it.
///
/// Logs the notification id, kind and appointment id at info level, never the customer's data.
public struct LoggingNotificationSender: NotificationSender {
    private let logger: Logger

    /// Creates a sender that logs to `logger`.
    public init(logger: Logger) { self.logger = logger }

    /// Logs the delivery.
    public func send(_ delivery: NotificationDelivery) async throws {
        logger.info(
            "notification delivered to the log",
            metadata: [
                "notification.id": "\(delivery.notification.id)",
                "notification.kind": "\(delivery.notification.kind.rawValue)",
                "appointment.id": "\(delivery.appointment.id)",
            ])
    }
}
