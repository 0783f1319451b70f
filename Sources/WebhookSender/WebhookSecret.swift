public import BookingDomain
import Crypto
import Foundation

/// A Standard Webhooks signing secret: `whsec_` followed by the base64 of 24 to 64 random bytes.
///
/// Make one with `echo "whsec_$(openssl rand -base64 32)"` or ``generate(byteCount:)``, give the same
/// string to the sender and the receiver, and keep it out of source control. Its ``description`` never
/// shows the key, so a secret can be logged by accident without leaking.
///
/// ```swift
/// let secret = try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
/// ```
public struct WebhookSecret: Sendable, CustomStringConvertible {
    /// The prefix that marks a symmetric Standard Webhooks secret.
    public static let prefix = "whsec_"
    /// The fewest key bytes accepted (192 bits), as the specification requires.
    public static let minimumByteCount = 24
    /// The most key bytes accepted (512 bits), as the specification allows.
    public static let maximumByteCount = 64

    /// The base64-decoded bytes after the prefix (kept as `Data`: swift-crypto's `SymmetricKey` is not
    /// `Sendable` on every platform).
    private let bytes: Data

    /// The HMAC-SHA256 key.
    var key: SymmetricKey { SymmetricKey(data: bytes) }

    /// Parses `text`; throws `BookingError.invalidInput` for the field
    /// `webhookSecret`, with a sentence saying what is wrong and how to make a good one, if it lacks the
    /// `whsec_` prefix, is not base64 or decodes to fewer than 24 (or more than 64) bytes. The message
    /// never repeats the secret. White space around it (the line break that ends a secret read from a file) is
    /// ignored.
    public init(_ text: String) throws(BookingError) {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let howTo = "make one with: echo \"whsec_$(openssl rand -base64 32)\""
        guard text.hasPrefix(Self.prefix) else {
            throw .invalidInput(field: "webhookSecret", "must start with whsec_ (a Standard Webhooks secret); \(howTo)")
        }
        guard let bytes = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))) else {
            throw .invalidInput(field: "webhookSecret", "must be whsec_ followed by valid base64; \(howTo)")
        }
        guard bytes.count >= Self.minimumByteCount else {
            throw .invalidInput(
                field: "webhookSecret",
                "decodes to \(bytes.count) bytes, fewer than the \(Self.minimumByteCount) required; \(howTo)")
        }
        guard bytes.count <= Self.maximumByteCount else {
            throw .invalidInput(
                field: "webhookSecret",
                "decodes to \(bytes.count) bytes, more than the \(Self.maximumByteCount) allowed; \(howTo)")
        }
        self.bytes = bytes
    }

    /// A new random secret string, `whsec_` + the base64 of `byteCount` random bytes (clamped to 24...64).
    public static func generate(byteCount: Int = 32) -> String {
        let count = min(max(byteCount, minimumByteCount), maximumByteCount)
        let key = SymmetricKey(size: SymmetricKeySize(bitCount: count * 8))
        return prefix + key.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// `whsec_(hidden)`: never the key.
    public var description: String { "\(Self.prefix)(hidden)" }
}
