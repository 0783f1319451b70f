/// Delivers one notification: an email, an SMS, a webhook. Plug yours into ``NotificationDispatcher``.
///
/// Delivery is at least once: a sender may see the same notification again after a crash or a
/// lapsed lease, so pass ``BookingNotification/id`` on as an idempotency key downstream.
///
/// ```swift
/// struct EmailSender: NotificationSender {
///     func send(_ delivery: NotificationDelivery) async throws {
///         guard delivery.appointment.customerEmail.hasSuffix(".invalid") == false else {
///             throw DeliveryFailure.permanent("undeliverable address")
///         }
///         try await mailer.send(to: delivery.appointment.customerEmail, kind: delivery.notification.kind)
///     }
/// }
/// ```
public protocol NotificationSender: Sendable {
    /// Delivers the notification, or throws: a ``DeliveryFailure`` says whether a retry may help,
    /// and its reason is stored; any other error counts as transient and only its type name is stored
    /// or logged, because descriptions often carry addresses or URLs. Should honour task cancellation:
    /// the dispatcher cancels a send after its timeout, or when the notification's lease was taken
    /// over. A sender that runs on regardless keeps its lease renewed while it runs, and a success it
    /// reports after the timeout still counts as delivered.
    func send(_ delivery: NotificationDelivery) async throws
}

/// What a sender gets: the notification and its appointment, read when the notification was claimed for this
/// send (again just before it for a reminder, and for a send starting more than a second after the claim).
public struct NotificationDelivery: Hashable, Sendable {
    /// The outbox row, with its attempt already counted.
    public let notification: BookingNotification
    /// The appointment as it was read for this send.
    public let appointment: Appointment

    /// Creates a delivery.
    public init(notification: BookingNotification, appointment: Appointment) {
        self.notification = notification
        self.appointment = appointment
    }
}

/// Why a delivery failed, and whether to try again.
///
/// Its ``reason`` is stored as the notification's last error and logged, so write it on purpose:
/// a status code or a fixed phrase, never an address, a URL or another error's description. The
/// dispatcher stores only the type name of any other error a sender throws.
public struct DeliveryFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// Whether no retry can succeed (e.g. HTTP 400 or 410): the notification fails at once.
    public let isPermanent: Bool
    /// A short reason without personal data; it is stored as the notification's last error.
    public let reason: String
    /// The earliest time, from now, that the receiver asked to be tried again (an HTTP `Retry-After`).
    ///
    /// ``NotificationDispatcher`` waits at least this long before the next attempt, and at most
    /// ``NotificationDispatcher/Configuration/maxRetryAfter``; `nil` leaves the delay to its backoff.
    public let retryAfter: Duration?

    private init(isPermanent: Bool, reason: String, retryAfter: Duration?) {
        self.isPermanent = isPermanent
        self.reason = reason
        self.retryAfter = retryAfter
    }

    /// A failure that a later attempt may not repeat (timeouts, 5xx, 429); `retryAfter` is the
    /// earliest next attempt the receiver asked for, if it said.
    public static func transient(_ reason: String, retryAfter: Duration? = nil) -> DeliveryFailure {
        DeliveryFailure(isPermanent: false, reason: reason, retryAfter: retryAfter)
    }

    /// A failure that every attempt would repeat.
    public static func permanent(_ reason: String) -> DeliveryFailure {
        DeliveryFailure(isPermanent: true, reason: reason, retryAfter: nil)
    }

    /// The reason.
    public var description: String { reason }
}
