import HTTPTypes
import Hummingbird

/// Answers 405 with an `Allow` header when a known path is asked with a method it does not serve.
///
/// Its table comes from the router's own route list, so it cannot drift from the routes; add it after
/// every route, where it runs only on requests that matched no route (Hummingbird applies middleware
/// to the routes added after it, and to the not-found path).
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    private let routes: [(segments: [Substring], methods: Set<String>)]

    init(routes: [Router<Context>.RouteDescription]) {
        var methodsByPath: [String: Set<String>] = [:]
        for route in routes { methodsByPath[route.path.description, default: []].insert(route.method.rawValue) }
        self.routes = methodsByPath.map { path, methods in (path.split(separator: "/"), methods) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let segments = request.uri.path.split(separator: "/")
            let allowed = routes.filter { matches($0.segments, segments) }.reduce(into: Set<String>()) {
                $0.formUnion($1.methods)
            }
            guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else {
                throw error
            }
            throw APIError(
                .methodNotAllowed, code: "METHOD_NOT_ALLOWED", "This route does not accept \(request.method.rawValue).",
                headers: [.allow: allowed.sorted().joined(separator: ", ")])
        }
    }

    private func matches(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        pattern.count == path.count && zip(pattern, path).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
    }
}
