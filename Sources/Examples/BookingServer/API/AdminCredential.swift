import BookingDomain
import Crypto
import Foundation
import Hummingbird

/// The admin bearer token, compared in constant time (through SHA-256 digests of equal length).
struct AdminCredential: Sendable {
    private let digest: [UInt8]

    init(token: String) { digest = Array(SHA256.hash(data: Data(token.utf8))) }

    /// A random 32-byte token, base64url.
    static func generateToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// What the request's `Authorization` header says.
    enum Presented {
        case none
        case admin
        case wrong
    }

    /// `.none` without an `Authorization` header or with a scheme other than `Bearer`.
    func check(_ request: Request) -> Presented {
        guard let header = request.headers[.authorization] else { return .none }
        guard header.lowercased().hasPrefix("bearer ") else { return .none }
        let token = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        let presented = SHA256.hash(data: Data(token.utf8))
        return zip(presented, digest).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0 ? .admin : .wrong
    }

    /// Throws 401 without a credential and 403 with a wrong one.
    func require(_ request: Request) throws {
        switch check(request) {
        case .admin: return
        case .none: throw APIError.unauthorized
        case .wrong: throw APIError(BookingError.forbidden)
        }
    }
}
