public import AsyncHTTPClient
public import BookingDomain
import Crypto
public import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Delivers notifications by POSTing JSON to a URL, signed with HMAC-SHA256.
///
/// Each request carries:
/// - `X-Booking-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed by the secret>`;
/// - `Idempotency-Key: <notification id>`, the same on every retry: deduplicate with it, because
///   delivery is at least once;
/// - `Content-Type: application/json`.
///
/// A 2xx answer is delivered; 408, 429, 5xx, timeouts and network errors are retried (transient);
/// any other status is permanent.
///
/// Verifying on the receiving side:
/// ```swift
/// let expected = "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))).hex
/// guard constantTimeEquals(request.headers["X-Booking-Signature"], expected) else { return .unauthorized }
/// ```
public struct WebhookNotificationSender: NotificationSender {
    /// Where and how to deliver.
    public struct Configuration: Sendable {
        /// The endpoint; must be http or https.
        public var url: URL
        /// The shared secret for the signature.
        public var secret: String
        /// How long one request may take.
        public var timeout: Duration

        /// Creates a configuration; throws ``BookingDomain/BookingError/Code/invalidInput`` for a
        /// URL that is not http(s) or an empty secret.
        public init(url: URL, secret: String, timeout: Duration = .seconds(10)) throws(BookingError) {
            guard let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
                throw .invalidInput(field: "webhookUrl", "must be an http or https URL")
            }
            guard !secret.isEmpty else { throw .invalidInput(field: "webhookSecret", "must not be empty") }
            self.url = url
            self.secret = secret
            self.timeout = timeout
        }
    }

    /// The header carrying the signature.
    public static let signatureHeader = "X-Booking-Signature"

    private let configuration: Configuration
    private let httpClient: HTTPClient

    /// Creates a sender using `httpClient` (by default the process-wide shared client).
    public init(configuration: Configuration, httpClient: HTTPClient = .shared) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    /// `sha256=<hex>` for `body` under `secret`.
    public static func signature(of body: Data, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + code.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// POSTs the notification; maps the answer as described above.
    public func send(_ delivery: NotificationDelivery) async throws {
        let body: Data
        do {
            body = try WebhookPayload(delivery).encoded()
        } catch {
            throw DeliveryFailure.permanent("the payload could not be encoded")
        }
        var request = HTTPClientRequest(url: configuration.url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "swift-booking-webhook/1")
        request.headers.add(name: Self.signatureHeader, value: Self.signature(of: body, secret: configuration.secret))
        request.headers.add(name: "Idempotency-Key", value: String(delivery.notification.id))
        request.body = .bytes(ByteBuffer(data: body))
        let status: HTTPResponseStatus
        do {
            let response = try await httpClient.execute(
                request, timeout: .nanoseconds(configuration.timeout.nanoseconds))
            status = response.status
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw DeliveryFailure.transient("the webhook request failed: \(Self.describe(error))")
        }
        switch status.code {
        case 200..<300: return
        case 408, 429, 500..<600: throw DeliveryFailure.transient("HTTP \(status.code)")
        default: throw DeliveryFailure.permanent("HTTP \(status.code)")
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            return error.description
        }
        return String(describing: type(of: error))
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
