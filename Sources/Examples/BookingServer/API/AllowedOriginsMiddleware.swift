import HTTPTypes
import Hummingbird

/// Drops the `Origin` header of requests from origins not configured with `--cors-origin`, so the
/// CORS middleware after it (which echoes the request's origin) only ever grants the allowed ones.
struct AllowedOriginsMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let origin = request.headers[.origin], !origins.contains(origin) else {
            return try await next(request, context)
        }
        var head = request.head
        head.headerFields[.origin] = nil
        return try await next(Request(head: head, body: request.body), context)
    }
}
