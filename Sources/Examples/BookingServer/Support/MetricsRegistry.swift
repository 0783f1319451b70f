import Metrics
import Prometheus

/// The process's Prometheus registry; swift-metrics is bootstrapped with it exactly once.
enum MetricsRegistry {
    /// The registry `/metrics` renders.
    static let shared: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // A notification's delivery waits for retries' backoff too (minutes to hours): the default buckets end at 10 s.
        factory.durationHistogramBuckets["booking_notification_delivery_seconds"] = [
            .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1),
            .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(900),
            .seconds(3600), .seconds(4 * 3600), .seconds(24 * 3600),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}
