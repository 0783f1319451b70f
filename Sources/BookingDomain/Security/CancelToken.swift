import Crypto
import Foundation

/// Makes and checks cancel tokens; only their SHA-256 is ever stored.
enum CancelToken {
    /// A new token: 32 random bytes from the system's secure generator, base64url without padding.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Lowercase hex SHA-256 of `text`'s UTF-8 bytes.
    static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Whether `token` hashes to `storedHash`, comparing in time independent of where they differ.
    static func matches(_ token: String, storedHash: String) -> Bool {
        let candidate = Array(sha256Hex(token).utf8)
        let stored = Array(storedHash.utf8)
        guard candidate.count == stored.count else { return false }
        var difference: UInt8 = 0
        for index in candidate.indices { difference |= candidate[index] ^ stored[index] }
        return difference == 0
    }
}
