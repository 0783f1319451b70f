import Metrics
import Prometheus

/// The process's Prometheus registry; swift-metrics is bootstrapped with it exactly once.
enum MetricsRegistry {
    /// The registry `/metrics` renders.
    static let shared: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}
