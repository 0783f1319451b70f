import Crypto
import Foundation

/// Bearer secrets (cancel tokens, the host's admin token): made from the system's secure generator,
/// kept only as their SHA-256, and checked in time independent of where a guess differs.
public enum SecretToken {
    /// A new token: 32 random bytes from the system's secure generator, base64url without padding.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Lowercase hex SHA-256 of `text`'s UTF-8 bytes: what is stored instead of a token.
    public static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Whether `token` hashes to `storedHash` (as ``sha256Hex(_:)`` wrote it); swift-crypto compares the
    /// digests in time independent of where they differ.
    public static func matches(_ token: String, storedHash: String) -> Bool {
        guard let stored = bytes(ofHex: storedHash), stored.count == SHA256.byteCount else { return false }
        return SHA256.hash(data: Data(token.utf8)) == stored
    }

    /// The bytes of lowercase or uppercase hex text, or `nil` when it is not hex.
    private static func bytes(ofHex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
