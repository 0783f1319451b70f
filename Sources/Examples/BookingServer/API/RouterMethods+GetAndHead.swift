import Hummingbird

extension RouterMethods {
    /// Adds `handler` for GET on `path`, and for HEAD: the GET's status and headers (`Content-Length` included), no
    /// body, as RFC 9110 section 9.3.2 asks.
    ///
    /// The HEAD route is a route of its own, so the middleware (the request log, the metrics) runs around it as
    /// around any answer, and counts it under HEAD.
    @discardableResult
    func getAndHead(
        _ path: RouterPath, use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator
    ) -> Self {
        get(path, use: handler)
        return head(path) { request, context in
            try await handler(request, context).response(from: request, context: context).createHeadResponse()
        }
    }
}
