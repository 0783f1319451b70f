import Hummingbird
import Metrics
import Synchronization

/// Counts and times every request, and keeps the gauge of requests in progress:
/// `http_server_requests_total` and `http_server_request_duration_seconds` (by route, method and status) and
/// `http_server_active_requests` (by method).
///
/// The labels are bounded whatever clients send: the route is the matched route's template, or for a request no route
/// took `NotFound` (404), `MethodNotAllowed` (405), `Preflight` (a CORS preflight) or `Unmatched`; the method is one
/// of HTTP's own (`GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`, `OPTIONS`) or `_OTHER` (WebDAV's and the rest the
/// parser lets through), as OpenTelemetry's conventions say.
///
/// A request counts as done when its handler has answered, before its body is written: the gauge comes back down
/// whatever happens to the connection next. (Hummingbird's `MetricsMiddleware` ended it after the body's write, which
/// never comes when the client has gone: every request reset by its client left the gauge one higher for good.)
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let metrics = Made()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let started = ContinuousClock.now
        let active = metrics.activeRequests(Self.methodLabel(request.method))
        active.increment()
        defer { active.decrement() }
        do {
            let response = try await next(request, context)
            record(request, context, response.status, since: started)
            return response
        } catch {
            record(request, context, (error as? any HTTPResponseError)?.status ?? .internalServerError, since: started)
            throw error
        }
    }

    private func record(
        _ request: Request, _ context: Context, _ status: HTTPResponse.Status, since started: ContinuousClock.Instant
    ) {
        // Hummingbird names the route of a request no route took "NotFound", whatever it was answered.
        let matched = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 }
        let endpoint = metrics.endpoint(
            route: matched ?? Self.unmatchedRoute(request.method, status), Self.methodLabel(request.method), status)
        endpoint.requests.increment()
        let elapsed = ContinuousClock.now - started
        endpoint.duration.recordNanoseconds(
            elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }

    /// `method` as a label: one of HTTP's own methods, or `_OTHER`.
    static func methodLabel(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head, .post, .put, .patch, .delete, .options: method.rawValue
        default: "_OTHER"
        }
    }

    /// The route label of a request no route took, by what it was answered.
    static func unmatchedRoute(_ method: HTTPRequest.Method, _ status: HTTPResponse.Status) -> String {
        switch (method, status) {
        case (_, .notFound): "NotFound"
        case (_, .methodNotAllowed): "MethodNotAllowed"
        case (.options, _): "Preflight"
        default: "Unmatched"
        }
    }

    /// The metrics of each method, and of each route, method and status, made once and kept.
    private final class Made: Sendable {
        private struct Endpoint: Hashable {
            let route: String
            let method: String
            let status: HTTPResponse.Status
        }

        private struct Kept {
            var active: [String: Meter] = [:]
            var endpoints: [Endpoint: (requests: Counter, duration: Metrics.Timer)] = [:]
        }

        private let kept = Mutex(Kept())

        func activeRequests(_ method: String) -> Meter {
            kept.withLock { kept in
                if let meter = kept.active[method] { return meter }
                let meter = Meter(
                    label: "http_server_active_requests", dimensions: [("http_request_method", method)])
                kept.active[method] = meter
                return meter
            }
        }

        func endpoint(route: String, _ method: String, _ status: HTTPResponse.Status)
            -> (requests: Counter, duration: Metrics.Timer)
        {
            let key = Endpoint(route: route, method: method, status: status)
            return kept.withLock { kept in
                if let metrics = kept.endpoints[key] { return metrics }
                let dimensions = [
                    ("http_route", route), ("http_request_method", method),
                    ("http_response_status_code", String(status.code)),
                ]
                let metrics = (
                    requests: Counter(label: "http_server_requests_total", dimensions: dimensions),
                    duration: Metrics.Timer(
                        label: "http_server_request_duration_seconds", dimensions: dimensions,
                        preferredDisplayUnit: .seconds)
                )
                kept.endpoints[key] = metrics
                return metrics
            }
        }
    }
}
