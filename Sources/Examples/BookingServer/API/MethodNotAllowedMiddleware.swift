import Foundation
import HTTPTypes
import Hummingbird

/// Answers 405 with an `Allow` header when a known path is asked with a method it does not serve.
///
/// The known paths and methods are those of ``OpenAPIDocument`` (a test keeps it equal to the router).
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    private let routes: [(segments: [Substring], methods: Set<String>)]

    init() {
        let document = try? JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any]
        let paths = document?["paths"] as? [String: [String: Any]] ?? [:]
        routes = paths.map { path, operations in
            (path.split(separator: "/"), Set(operations.keys.map { $0.uppercased() }))
        }
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
            guard !allowed.isEmpty, !allowed.contains(request.method.rawValue), request.method != .head else {
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
