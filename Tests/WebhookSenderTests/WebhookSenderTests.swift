import BookingDomain
import BookingTesting
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemoryStore
import Logging
import Synchronization
import Testing
import WebhookSender

/// What the test receiver saw, and the statuses it answers with, in order.
final class Receiver: Sendable {
    struct Hit: Sendable {
        let body: Data
        let signature: String?
        let idempotencyKey: String?
        let contentType: String?
    }

    private let state: Mutex<(hits: [Hit], statuses: [Int])>
    private let delay: Duration

    init(statuses: [Int], delay: Duration = .zero) {
        state = Mutex((hits: [], statuses: statuses))
        self.delay = delay
    }

    var hits: [Hit] { state.withLock { $0.hits } }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let status = self.state.withLock { state -> Int in
                state.hits.append(
                    Hit(
                        body: Data(body.readableBytesView), signature: request.headers[.init("X-Booking-Signature")!],
                        idempotencyKey: request.headers[.init("Idempotency-Key")!],
                        contentType: request.headers[.contentType]))
                return state.statuses.isEmpty ? 200 : state.statuses.removeFirst()
            }
            if self.delay > .zero { try await Task.sleep(for: self.delay) }
            return Response(status: .init(code: status))
        }
        return router
    }
}

@Suite("webhook sender")
struct WebhookSenderTests {
    let secret = "test-secret"

    func delivery(id: Int64 = 41) throws -> NotificationDelivery {
        let start = Date(millisecondsSince1970: 1_803_891_600_000)
        let slot = try TimeSlot(start: start, end: start.addingTimeInterval(1800))
        let appointment = Appointment(
            id: 7, resource: .default, slot: slot, occupied: slot, customerName: "Ada",
            customerEmail: "ada@example.com",
            note: nil, status: .booked, createdAt: start, updatedAt: start, cancelledAt: nil)
        let notification = BookingNotification(
            id: id, appointmentID: 7, kind: .booked, status: .pending, attempts: 1, nextAttemptAt: start,
            leaseOwner: "w",
            leaseExpiresAt: nil, lastError: nil, createdAt: start, updatedAt: start, sentAt: nil)
        return NotificationDelivery(notification: notification, appointment: appointment)
    }

    func withReceiver(_ receiver: Receiver, _ body: @escaping @Sendable (URL) async throws -> Void) async throws {
        let app = Application(router: receiver.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body(try #require(URL(string: "http://127.0.0.1:\(port)/hook")))
        }
    }

    @Test("the request is signed, carries the notification id as idempotency key, and describes the appointment")
    func signedRequest() async throws {
        let receiver = Receiver(statuses: [200])
        let delivery = try delivery()
        try await withReceiver(receiver) { url in
            try await WebhookNotificationSender(configuration: .init(url: url, secret: secret)).send(delivery)
        }
        let hit = try #require(receiver.hits.first)
        let expected = HMAC<SHA256>.authenticationCode(for: hit.body, using: SymmetricKey(data: Data(secret.utf8)))
        #expect(hit.signature == "sha256=" + expected.map { String(format: "%02x", $0) }.joined())
        #expect(hit.idempotencyKey == "41")
        #expect(hit.contentType == "application/json")
        let json = try #require(try JSONSerialization.jsonObject(with: hit.body) as? [String: Any])
        #expect(json["notification_id"] as? Int == 41)
        #expect(json["kind"] as? String == "booked")
        let appointment = try #require(json["appointment"] as? [String: Any])
        #expect(appointment["slot_start"] as? String == "2027-03-01T09:00:00.000Z")
        #expect(appointment["customer_email"] as? String == "ada@example.com")
    }

    @Test(
        "2xx is delivered; 408, 429 and 5xx are transient; other 4xx are permanent",
        arguments: [
            (200, nil), (204, nil), (408, false), (429, false), (500, false), (503, false), (400, true), (404, true),
            (410, true),
        ] as [(Int, Bool?)])
    func statusCodes(status: Int, permanent: Bool?) async throws {
        let receiver = Receiver(statuses: [status])
        let delivery = try delivery()
        try await withReceiver(receiver) { url in
            let sender = WebhookNotificationSender(configuration: try .init(url: url, secret: secret))
            do {
                try await sender.send(delivery)
                #expect(permanent == nil, "HTTP \(status) must fail")
            } catch let failure as DeliveryFailure {
                #expect(failure.isPermanent == permanent, "HTTP \(status)")
                #expect(failure.reason == "HTTP \(status)")
            }
        }
    }

    @Test("a receiver slower than the timeout is a transient failure")
    func timeout() async throws {
        let receiver = Receiver(statuses: [200], delay: .seconds(3))
        let delivery = try delivery()
        try await withReceiver(receiver) { url in
            let sender = WebhookNotificationSender(
                configuration: try .init(url: url, secret: secret, timeout: .milliseconds(300)))
            let failure = await #expect(throws: DeliveryFailure.self) { try await sender.send(delivery) }
            #expect(failure?.isPermanent == false)
        }
    }

    @Test("an unreachable receiver is a transient failure")
    func unreachable() async throws {
        let url = try #require(URL(string: "http://127.0.0.1:9/hook"))
        let sender = WebhookNotificationSender(configuration: try .init(url: url, secret: secret, timeout: .seconds(2)))
        let failure = await #expect(throws: DeliveryFailure.self) { try await sender.send(try delivery()) }
        #expect(failure?.isPermanent == false)
    }

    @Test("bad settings are refused with the setting named")
    func badConfiguration() throws {
        let ftp = try #require(URL(string: "ftp://example.com/hook"))
        #expect(
            #expect(throws: BookingError.self) { try WebhookNotificationSender.Configuration(url: ftp, secret: "s") }?
                .fieldErrors["webhookUrl"] != nil)
        let http = try #require(URL(string: "http://example.com/hook"))
        #expect(
            #expect(throws: BookingError.self) { try WebhookNotificationSender.Configuration(url: http, secret: "") }?
                .fieldErrors["webhookSecret"] != nil)
    }

    @Test("through a dispatcher: a 503 is retried after the backoff, then delivered once")
    func throughDispatcher() async throws {
        let receiver = Receiver(statuses: [503, 200])
        try await withReceiver(receiver) { url in
            let clock = ManualWallClock(now: Date(millisecondsSince1970: 1_803_888_000_000))
            let store = InMemoryStore()
            let service = BookingService(store: store, clock: clock)
            let slot = try #require(try await service.availability().first)
            _ = try await service.book(
                BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada", email: "ada@example.com"))
            let dispatcher = NotificationDispatcher(
                store: store, sender: WebhookNotificationSender(configuration: try .init(url: url, secret: secret)),
                clock: clock,
                logger: Logger(label: "test"))
            #expect(try await dispatcher.drain().retried == 1)
            clock.advance(by: .seconds(3))
            #expect(try await dispatcher.drain().sent == 1)
            let notification = try #require(await store.notifications(appointmentID: nil).first)
            #expect(notification.status == .sent && notification.attempts == 2 && notification.lastError == "HTTP 503")
        }
        #expect(receiver.hits.map(\.idempotencyKey) == ["1", "1"])
    }
}
