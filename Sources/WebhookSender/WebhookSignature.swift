import Crypto
public import Foundation

/// Signs and verifies webhooks as the Standard Webhooks specification (v1, symmetric) describes:
/// the receiver's half of ``WebhookNotificationSender``.
///
/// The signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the signature is
/// `v1,<base64 of HMAC-SHA256 of it>`, keyed by the bytes of a ``WebhookSecret``. The
/// `webhook-signature` header lists one signature per secret, separated by spaces, so secrets can be
/// rotated without downtime.
///
/// Verify every delivery before acting on it, on the exact bytes received (not JSON re-encoded), and
/// answer 400 or 401 without acting when it throws; then deduplicate by `webhook-id`.
/// ``WebhookNotificationSender`` shows a complete Hummingbird route:
///
/// ```swift
/// let secrets = [try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
/// // id, timestamp, signature: the three header values as received (String?, nil when absent);
/// // body: the request body's exact bytes (Data, [UInt8], any DataProtocol).
/// try WebhookSignature.verify(
///     id: id, timestamp: timestamp, signatureHeader: signature, body: body, secrets: secrets, now: Date())
/// ```
public enum WebhookSignature {
    /// The header carrying the message id, stable across retries: `webhook-id`.
    public static let idHeader = "webhook-id"
    /// The header carrying the attempt's Unix time in seconds: `webhook-timestamp`.
    public static let timestampHeader = "webhook-timestamp"
    /// The header carrying the space-separated signatures: `webhook-signature`.
    public static let signatureHeader = "webhook-signature"

    /// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under `secret`: one entry of the
    /// `webhook-signature` header.
    public static func sign(id: String, timestamp: Int64, body: some DataProtocol, secret: WebhookSecret) -> String {
        let code = HMAC<SHA256>.authenticationCode(
            for: signedContent(id: id, timestamp: String(timestamp), body: body), using: secret.key)
        return "v1," + Data(code).base64EncodedString()
    }

    /// The whole `webhook-signature` header: one ``sign(id:timestamp:body:secret:)`` per secret, in
    /// order, separated by spaces.
    public static func signatures(
        id: String, timestamp: Int64, body: some DataProtocol, secrets: [WebhookSecret]
    ) -> String {
        secrets.map { sign(id: id, timestamp: timestamp, body: body, secret: $0) }.joined(separator: " ")
    }

    /// Checks a delivery: throws unless the timestamp is within `tolerance` of `now` (either way) and
    /// some `v1` signature in `signatureHeader` matches `body` under one of `secrets`.
    ///
    /// Pass the three header values as received (`nil` when absent) and the body's exact bytes.
    /// Signatures are compared in constant time; entries of other versions (such as `v1a`) are ignored.
    /// - Parameters:
    ///   - id: the `webhook-id` header.
    ///   - timestamp: the `webhook-timestamp` header, Unix seconds.
    ///   - signatureHeader: the `webhook-signature` header.
    ///   - body: the request body, byte for byte.
    ///   - secrets: the secrets you accept (several while rotating).
    ///   - now: the current time.
    ///   - tolerance: how far the timestamp may be from `now`, in the past or the future (default 5 minutes):
    ///     this is what makes a captured request useless for a replay later.
    /// - Throws: ``VerificationError``, saying which check failed.
    public static func verify(
        id: String?, timestamp: String?, signatureHeader: String?, body: some DataProtocol,
        secrets: [WebhookSecret], now: Date, tolerance: Duration = .seconds(300)
    ) throws(VerificationError) {
        guard let id, !id.isEmpty else { throw .missingHeader(idHeader) }
        guard let timestamp, !timestamp.isEmpty else { throw .missingHeader(timestampHeader) }
        guard let signatureHeader, !signatureHeader.isEmpty else { throw .missingHeader(Self.signatureHeader) }
        guard timestamp.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let seconds = Int64(timestamp)
        else { throw .invalidTimestamp }
        let offset = Double(seconds) - now.timeIntervalSince1970
        // `components` traps past what `Int64` counts in seconds: such a tolerance is as good as that.
        let (wholeSeconds, attoseconds) = min(max(tolerance, .seconds(Int64.min)), .seconds(Int64.max)).components
        let limit = Double(wholeSeconds) + Double(attoseconds) / 1e18
        guard abs(offset) <= limit else { throw .timestampOutsideTolerance }
        let content = signedContent(id: id, timestamp: timestamp, body: body)
        for entry in signatureHeader.split(separator: " ") {
            guard entry.hasPrefix("v1,"), let code = Data(base64Encoded: String(entry.dropFirst(3))) else { continue }
            for secret in secrets
            where HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: content, using: secret.key) {
                return
            }
        }
        throw .noMatchingSignature
    }

    private static func signedContent(id: String, timestamp: String, body: some DataProtocol) -> Data {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        return content
    }
}

extension WebhookSignature {
    /// Why ``WebhookSignature/verify(id:timestamp:signatureHeader:body:secrets:now:tolerance:)`` refused
    /// a delivery. Its description names the check, never a secret or a signature.
    public struct VerificationError: Error, Hashable, Sendable, CustomStringConvertible {
        /// Which check failed; compare with the static members.
        public struct Reason: Hashable, Sendable, CustomStringConvertible {
            private enum Base: String, Hashable, Sendable {
                case missingHeader = "missing header"
                case invalidTimestamp = "invalid timestamp"
                case timestampOutsideTolerance = "timestamp outside tolerance"
                case noMatchingSignature = "no matching signature"
            }

            private let base: Base
            private init(_ base: Base) { self.base = base }

            /// `webhook-id`, `webhook-timestamp` or `webhook-signature` is absent or empty.
            public static let missingHeader = Reason(.missingHeader)
            /// `webhook-timestamp` is not a whole number of seconds.
            public static let invalidTimestamp = Reason(.invalidTimestamp)
            /// `webhook-timestamp` is further from now than the tolerance: too old (a replay) or too far ahead.
            public static let timestampOutsideTolerance = Reason(.timestampOutsideTolerance)
            /// No `v1` signature matches the body under any of the secrets.
            public static let noMatchingSignature = Reason(.noMatchingSignature)

            /// The reason in words.
            public var description: String { base.rawValue }
        }

        /// Which check failed.
        public let reason: Reason
        /// A sentence for logs and 401 bodies.
        public let message: String

        static func missingHeader(_ name: String) -> VerificationError {
            VerificationError(reason: .missingHeader, message: "the \(name) header is missing")
        }

        static let invalidTimestamp = VerificationError(
            reason: .invalidTimestamp, message: "the webhook-timestamp header is not Unix seconds")

        static let timestampOutsideTolerance = VerificationError(
            reason: .timestampOutsideTolerance,
            message: "the webhook-timestamp is too far from now (an old replay, or a skewed clock)")

        static let noMatchingSignature = VerificationError(
            reason: .noMatchingSignature, message: "no v1 signature matches the body under the accepted secrets")

        /// The message.
        public var description: String { message }
    }
}
