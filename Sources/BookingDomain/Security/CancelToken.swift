import Crypto
import Foundation

/// Makes and checks cancel tokens; only their SHA-256 is ever stored.
enum CancelToken {
    /// A new token: 32 random bytes from the system's secure generator, base64url without padding.
    static func generate() -> String {
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

    /// Lowercase hex SHA-256 of `text`'s UTF-8 bytes.
    static func sha256Hex(_ text: String) -> String {
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(text.utf8)) {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 15)])
        }
        return String(decoding: hex, as: UTF8.self)
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
