import Metrics

/// The dispatcher's metrics, one set per notification kind, made once with the dispatcher: made before
/// `MetricsSystem.bootstrap`, they stay no-ops.
struct DeliveryMetrics: Sendable {
    /// The metrics of one notification kind (dimension `kind`).
    struct OfKind: Sendable {
        /// `booking_notifications_sent_total`.
        let sent: Counter
        /// `booking_notifications_retried_total`.
        let retried: Counter
        /// `booking_notifications_failed_total`.
        let failed: Counter
        /// `booking_notification_delivery_seconds`: from falling due (a reminder's lead before its slot, any other
        /// notification when it was written) to delivery, retries included.
        let delivery: Metrics.Timer

        /// The metrics of `kind`, from the metrics system as bootstrapped now.
        init(_ kind: BookingNotification.Kind) {
            let dimensions = [("kind", kind.rawValue)]
            sent = Counter(label: "booking_notifications_sent_total", dimensions: dimensions)
            retried = Counter(label: "booking_notifications_retried_total", dimensions: dimensions)
            failed = Counter(label: "booking_notifications_failed_total", dimensions: dimensions)
            delivery = Metrics.Timer(
                label: "booking_notification_delivery_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
        }
    }

    private let booked = OfKind(.booked)
    private let cancelled = OfKind(.cancelled)
    private let rescheduled = OfKind(.rescheduled)
    private let reminder = OfKind(.reminder)

    /// The metrics of `kind`.
    subscript(kind: BookingNotification.Kind) -> OfKind {
        switch kind {
        case .booked: booked
        case .cancelled: cancelled
        case .rescheduled: rescheduled
        case .reminder: reminder
        }
    }
}
