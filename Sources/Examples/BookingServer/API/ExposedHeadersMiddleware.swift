import HTTPTypes
import Hummingbird

/// Adds `Access-Control-Expose-Headers` to the responses of cross-origin requests, so browsers let
/// scripts read `Idempotent-Replayed` and `Retry-After`.
///
/// The Fetch standard reads this header on the actual response, not on the preflight; Hummingbird's
/// `CORSMiddleware` writes it only on the preflight, so this middleware runs inside it. It sees the
/// request after ``AllowedOriginsMiddleware`` dropped origins that are not allowed.
struct ExposedHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let headers: [HTTPField.Name]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        if request.method != .options, request.headers[.origin] != nil {
            response.headers[.accessControlExposeHeaders] = headers.map(\.rawName).joined(separator: ", ")
        }
        return response
    }
}
