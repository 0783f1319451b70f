import Crypto
import Foundation

/// Bearer secrets (cancel tokens, the host's admin token): made from the system's secure generator,
/// kept only as their SHA-256, and checked in time independent of where a guess differs.
public enum SecretToken {
    /// A new token: 32 random bytes from the system's secure generator, base64url without padding.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        // Four draws of 8 bytes each, not 32 draws of one: each draw asks the system for randomness.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for _ in 0..<4 {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        return base64URL(bytes)
    }

    /// A token derived from `secret` for one `purpose`: base64url (no padding, 43 characters) of HMAC-SHA256 keyed
    /// with `secret` over `purpose`. Each purpose gets its own token, none of which tells the secret or another
    /// purpose's token; changing the secret changes them all.
    public static func derived(from secret: String, for purpose: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(
            for: Data(purpose.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return base64URL(Array(code))
    }

    /// Base64url (RFC 4648 section 5) without padding.
    static func base64URL(_ bytes: [UInt8]) -> String {
        var text: [UInt8] = []
        text.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var group = UInt32(bytes[index]) << 16
            if count > 1 { group |= UInt32(bytes[index + 1]) << 8 }
            if count > 2 { group |= UInt32(bytes[index + 2]) }
            for position in 0...count { text.append(alphabet[Int(group >> (18 - 6 * position) & 63)]) }
            index += 3
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lowercase hex SHA-256 of `text`'s UTF-8 bytes: what is stored instead of a token.
    public static func sha256Hex(_ text: String) -> String {
        // Hashed from the string's own UTF-8 and written straight into the result: no `Data` copy, no array
        // (they were half of this function's time on a booking).
        var text = text
        var hasher = SHA256()
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return hasher.finalize().withUnsafeBytes { digest in
            String(unsafeUninitializedCapacity: digest.count * 2) { hex in
                for (index, byte) in digest.enumerated() {
                    hex[2 * index] = hexDigits[Int(byte >> 4)]
                    hex[2 * index + 1] = hexDigits[Int(byte & 15)]
                }
                return digest.count * 2
            }
        }
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
