import BookingDomain
import Foundation
import Hummingbird

/// The admin bearer token, kept as its SHA-256 and compared in constant time (``BookingDomain/SecretToken``).
struct AdminCredential: Sendable {
    private let tokenHash: String

    init(token: String) { tokenHash = SecretToken.sha256Hex(token) }

    /// What the request's `Authorization` header says.
    enum Presented {
        case none
        case admin
        case wrong
    }

    /// `.none` without an `Authorization` header or with a scheme other than `Bearer`.
    func check(_ request: Request) -> Presented {
        guard let token = Self.bearerToken(of: request) else { return .none }
        return matches(token) ? .admin : .wrong
    }

    /// Whether `token` is the admin token.
    func matches(_ token: String) -> Bool { SecretToken.matches(token, storedHash: tokenHash) }

    /// The token of an `Authorization: Bearer` header; `nil` without one or with another scheme.
    static func bearerToken(of request: Request) -> String? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            return nil
        }
        return header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
    }

    /// Throws 401 without a credential and 403 with a wrong one.
    func require(_ request: Request) throws {
        switch check(request) {
        case .admin: return
        case .none: throw APIError.adminUnauthorized
        case .wrong: throw APIError(BookingError.forbidden)
        }
    }
}
