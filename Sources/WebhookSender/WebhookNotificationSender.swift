public import AsyncHTTPClient
public import BookingDomain
public import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Delivers notifications by POSTing JSON to a URL, signed as the
/// [Standard Webhooks](https://www.standardwebhooks.com) specification (v1) describes.
///
/// Each request carries:
/// - `webhook-id: <notification id>`, the same on every retry. Delivery is at least once (a crash
///   between sending and recording, or a lost answer, sends again), so deduplicate by it;
/// - `webhook-timestamp: <Unix seconds of this attempt>`, new on every retry;
/// - `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per configured secret,
///   space-separated, so you can rotate secrets without downtime (configure the new and the old secret,
///   move the receiver to the new one, then drop the old);
/// - `Idempotency-Key: <notification id>` (for receivers that dedupe by it) and
///   `Content-Type: application/json`.
///
/// Secrets are ``WebhookSecret`` strings: `whsec_` + base64 of at least 24 random bytes
/// (`echo "whsec_$(openssl rand -base64 32)"`).
///
/// Answers: 2xx is delivered. 408, 429, 5xx, timeouts and network errors are transient, retried by the
/// `NotificationDispatcher` with backoff; on any of those statuses a `Retry-After` (seconds or an
/// HTTP-date) sets the earliest next attempt (see `DeliveryFailure.retryAfter`). A redirect (3xx) is not
/// followed: an HTTP client following a 301 or 302 would send a GET without the body to the new place and
/// count its answer, so a moved receiver is a transient failure until its URL is set right.
/// 410 Gone, the other 4xx and any other status are permanent: the notification fails at once, as it does when
/// ``Configuration/url`` was set, after the configuration was made, to one ``Configuration/check(url:)`` refuses.
/// Failure reasons are the status code or a fixed description of the network error, never the URL.
///
/// Verifying on the receiving side (a Hummingbird 2 route; any framework works the same way): check the
/// exact body bytes and the three headers before acting, refuse the request when that fails, and
/// deduplicate by `webhook-id`.
/// ```swift
/// // Your secret, read from configuration; this literal is the specification's public test secret.
/// let secrets = [try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
/// router.post("booking-hook") { request, context -> HTTPResponse.Status in
///     // The bytes as received: a body decoded and encoded again would not verify.
///     let body = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
///     func header(_ name: String) -> String? { request.headers[.init(name)!] }
///     do {
///         try WebhookSignature.verify(
///             id: header(WebhookSignature.idHeader), timestamp: header(WebhookSignature.timestampHeader),
///             signatureHeader: header(WebhookSignature.signatureHeader), body: body, secrets: secrets, now: Date())
///     } catch let error as WebhookSignature.VerificationError {
///         // Do not act on it. The reason names the failed check, never a secret.
///         context.logger.warning("refused a webhook", metadata: ["reason": "\(error.reason)"])
///         return error.reason == .missingHeader || error.reason == .invalidTimestamp ? .badRequest : .unauthorized
///     }
///     // If this webhook-id was already processed, stop here with 2xx; otherwise decode `body` and act.
///     return .noContent
/// }
/// ```
public struct WebhookNotificationSender: NotificationSender {
    /// Where and how to deliver.
    public struct Configuration: Sendable {
        /// The endpoint; must be http or https.
        public var url: URL
        /// The signing secrets; each signs every request, so a receiver may verify with any of them.
        public private(set) var secrets: [WebhookSecret]
        /// How long one request may take: 1 ms to 1 h (a value outside counts as the nearest). The dispatcher's
        /// send timeout bounds the whole send as well.
        public var timeout: Duration
        /// Makes the iCalendar file each payload carries as `calendar`; `nil` (the default) sends none.
        ///
        /// The host supplies it because it knows what the sender does not (the resources' names, the
        /// domain of its UIDs): e.g. `{ calendar.message(for: $0.appointment, summary: ..., now: Date()) }`
        /// with an `AppointmentCalendar` (`BookingDomain`).
        public var calendar: (@Sendable (NotificationDelivery) -> String)?

        /// Creates a configuration; throws `BookingError.invalidInput` for a URL that ``check(url:)`` refuses
        /// (field `webhookUrl`) or no secret (field `webhookSecret`).
        public init(
            url: URL, secrets: [WebhookSecret], timeout: Duration = .seconds(10),
            calendar: (@Sendable (NotificationDelivery) -> String)? = nil
        ) throws(BookingError) {
            try Self.check(url: url)
            guard !secrets.isEmpty else {
                throw .invalidInput(
                    field: "webhookSecret",
                    "needs at least one whsec_ secret; make one with: echo \"whsec_$(openssl rand -base64 32)\"")
            }
            self.url = url
            self.secrets = secrets
            self.timeout = timeout
            self.calendar = calendar
        }

        /// Throws `BookingError.invalidInput` (field `webhookUrl`) unless `url` is http or https with a host, and a
        /// port from 1 to 65535 when it names one.
        public static func check(url: URL) throws(BookingError) {
            guard let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                let host = url.host, !host.isEmpty,
                let components = URLComponents(url: url, resolvingAgainstBaseURL: true)
            else {
                throw .invalidInput(field: "webhookUrl", "must be an http or https URL")
            }
            // The port as written: URLComponents reads one of more digits than an Int holds as no port at all.
            if let range = components.rangeOfPort, let text = components.string?[range] {
                guard let port = Int(text), (1...65_535).contains(port) else {
                    throw .invalidInput(field: "webhookUrl", "has port \(text); a port is 1 to 65535")
                }
            }
        }

        /// Creates a configuration from secret strings (`whsec_<base64>`, several while rotating); throws
        /// `BookingError.invalidInput` for the field `webhookSecret` if one is
        /// malformed (see ``WebhookSecret/init(_:)``), or for a bad URL as above.
        public init(
            url: URL, secrets: [String], timeout: Duration = .seconds(10),
            calendar: (@Sendable (NotificationDelivery) -> String)? = nil
        ) throws(BookingError) {
            var parsed: [WebhookSecret] = []
            for text in secrets { parsed.append(try WebhookSecret(text)) }
            try self.init(url: url, secrets: parsed, timeout: timeout, calendar: calendar)
        }
    }

    private let configuration: Configuration
    private let httpClient: HTTPClient
    private let clock: any WallClock

    /// Creates a sender using `httpClient` and reading the `webhook-timestamp` from `clock`.
    ///
    /// The default client is the process's one for webhooks: AsyncHTTPClient's shared settings, but redirects not
    /// followed (see above). A client of your own should not follow them either: the answer to the redirected
    /// request would count as the receiver's.
    public init(
        configuration: Configuration, httpClient: HTTPClient = WebhookNotificationSender.webhookHTTPClient,
        clock: any WallClock = SystemWallClock()
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.clock = clock
    }

    /// POSTs the notification; maps the answer as described above.
    public func send(_ delivery: NotificationDelivery) async throws {
        // The URL is a `var`: one set after the configuration was made is checked here, before NIO would trap on it.
        do {
            try Configuration.check(url: configuration.url)
        } catch {
            throw DeliveryFailure.permanent(
                "the webhook URL is not one to send to: \(error.fieldErrors["webhookUrl"] ?? "")")
        }
        // First: the calendar below may read a clock too.
        let now = clock.now()
        guard TimeSlot.supports(now) else {
            throw DeliveryFailure.transient("the sender's clock reads outside the years 0001-9999")
        }
        let timestamp = Int64(now.timeIntervalSince1970.rounded(.down))
        let body: Data
        do {
            body = try WebhookPayload(delivery, calendar: configuration.calendar?(delivery)).encoded()
        } catch {
            throw DeliveryFailure.permanent("the payload could not be encoded")
        }
        let id = String(delivery.notification.id)
        var request = HTTPClientRequest(url: configuration.url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "swift-booking-webhook/1")
        request.headers.add(name: WebhookSignature.idHeader, value: id)
        request.headers.add(name: WebhookSignature.timestampHeader, value: String(timestamp))
        request.headers.add(
            name: WebhookSignature.signatureHeader,
            value: WebhookSignature.signatures(id: id, timestamp: timestamp, body: body, secrets: configuration.secrets)
        )
        request.headers.add(name: "Idempotency-Key", value: id)
        request.body = .bytes(ByteBuffer(data: body))
        let response: HTTPClientResponse
        do {
            let timeout = min(max(configuration.timeout, .milliseconds(1)), .seconds(3600))
            response = try await httpClient.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw DeliveryFailure.transient("the webhook request failed: \(Self.describe(error))")
        }
        let code = response.status.code
        switch code {
        case 200..<300:
            return
        case 300..<400, 408, 429, 500..<600:
            // Whatever the status, a receiver that says when to come back is heeded. An HTTP-date counts from when
            // the answer came, as the dispatcher's next attempt does.
            let answered = clock.now()
            let retryAfter = response.headers.first(name: "Retry-After").flatMap {
                RetryAfter.parse($0, now: answered)
            }
            throw DeliveryFailure.transient("HTTP \(code)", retryAfter: retryAfter)
        default:
            // 410 Gone included: the receiver no longer wants these webhooks.
            throw DeliveryFailure.permanent("HTTP \(code)")
        }
    }

    /// The process's client for webhooks, made at its first use and never shut down (as AsyncHTTPClient's shared
    /// one, and internal so nobody else can): AsyncHTTPClient's shared settings, with redirects not followed.
    @usableFromInline static let webhookHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// A fixed description per kind of error: never the URL, never a localized description.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            // `shortDescription` is documented to carry no associated values.
            return "HTTPClientError (\(error.shortDescription))"
        }
        return String(reflecting: type(of: error))
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

extension WebhookNotificationSender.Configuration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The endpoint's scheme, host and port, with its path and query left out (a receiver's URL may carry a token in
    /// them, as Slack's do), how many secrets (never one of them) and the timeout: what a log may show.
    public var description: String {
        let host = url.host ?? "?"
        var endpoint = "\(url.scheme ?? "?")://\(host.contains(":") ? "[\(host)]" : host)"
        if let port = url.port { endpoint += ":\(port)" }
        if !["", "/"].contains(url.path) || url.query != nil { endpoint += "/…" }
        return "Configuration(url: \(endpoint), secrets: \(secrets.count), timeout: \(timeout))"
    }

    /// The same as ``description``: debug output and reflection show no more.
    public var debugDescription: String { description }
}

extension WebhookNotificationSender: CustomStringConvertible {
    /// `WebhookNotificationSender(` and the configuration's ``Configuration/description``: never the URL's path, never
    /// a secret.
    public var description: String { "WebhookNotificationSender(\(configuration))" }
}
