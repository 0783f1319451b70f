import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import Metrics

/// The hold routes: take a slot (or one seat of it) for a few minutes while the customer types, and give it back.
extension BookingAPI {
    func addHoldRoutes(to api: RouterGroup<BasicRequestContext>) {
        api.post("holds", use: hold)
        // The token is the hold's only credential and travels in the path: the request log writes `{token}`.
        api.delete("holds/:token", use: releaseHold)
    }

    /// `POST /api/holds`: 201 with the hold and its token, shown once.
    @Sendable func hold(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(HoldBody.self, from: request, context: context)
        let confirmation = try await service.hold(body.request)
        counters.holds.increment()
        return try JSONResponse.make(HoldJSON(confirmation), status: .created)
    }

    /// `DELETE /api/holds/:token`: 204 once the hold is released; 404 when no live hold has that token.
    @Sendable func releaseHold(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        do throws(BookingError) {
            try await service.releaseHold(token: token)
        } catch {
            // The token is a path parameter: a bad one is named as such.
            throw error.code == .invalidInput ? APIError(error, location: .path) : APIError(error)
        }
        return Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }
}
