import BookingDomain
import BookingTesting
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemoryStore
import Logging
import Synchronization
import TestSupport
import Testing
import WebhookSender

/// What the test receiver saw, and the statuses it answers with, in order.
final class Receiver: Sendable {
    struct Hit: Sendable {
        let body: Data
        let id: String?
        let timestamp: String?
        let signature: String?
        let idempotencyKey: String?
        let contentType: String?

        /// Checks the delivery as a receiver would.
        func verify(secrets: [WebhookSecret], now: Date) throws(WebhookSignature.VerificationError) {
            try WebhookSignature.verify(
                id: id, timestamp: timestamp, signatureHeader: signature, body: body, secrets: secrets, now: now)
        }
    }

    private let state: Mutex<(hits: [Hit], statuses: [Int], moved: Int)>
    private let headers: [String: String]
    private let delay: Duration
    private let held: Gate?

    /// Answers with `statuses` in order (then 200), each with `headers`, after `delay`, and not before `held` (when
    /// given) opens.
    init(statuses: [Int], headers: [String: String] = [:], delay: Duration = .zero, heldBy held: Gate? = nil) {
        state = Mutex((hits: [], statuses: statuses, moved: 0))
        self.headers = headers
        self.delay = delay
        self.held = held
    }

    var hits: [Hit] { state.withLock { $0.hits } }
    /// How many requests reached `/moved`, where a redirect of the tests points.
    var movedHits: Int { state.withLock { $0.moved } }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            func header(_ name: String) -> String? { request.headers[.init(name)!] }
            let status = self.state.withLock { state -> Int in
                state.hits.append(
                    Hit(
                        body: Data(body.readableBytesView), id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"), signature: header("webhook-signature"),
                        idempotencyKey: header("Idempotency-Key"), contentType: header("Content-Type")))
                return state.statuses.isEmpty ? 200 : state.statuses.removeFirst()
            }
            if self.delay > .zero { try await Task.sleep(for: self.delay) }
            await self.held?.passed()
            var response = Response(status: .init(code: status))
            for (name, value) in self.headers { response.headers[.init(name)!] = value }
            return response
        }
        for method in [HTTPRequest.Method.get, .post] {
            router.on("moved", method: method) { _, _ -> HTTPResponse.Status in
                self.state.withLock { $0.moved += 1 }
                return .ok
            }
        }
        return router
    }
}

@Suite("webhook sender")
struct WebhookSenderTests {
    /// Generated once per test run: tests use real, random secrets.
    let secret = WebhookSecret.generate()
    /// Mon, 01 Mar 2027 09:00:00 GMT, the instant of every attempt unless a test moves the clock.
    let clock = ManualWallClock(now: Date(timeIntervalSince1970: 1_803_891_600))

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

    func sender(_ url: URL, secrets: [String]? = nil, timeout: Duration = .seconds(10)) throws
        -> WebhookNotificationSender
    {
        WebhookNotificationSender(
            configuration: try .init(url: url, secrets: secrets ?? [secret], timeout: timeout), clock: clock)
    }

    func withReceiver(_ receiver: Receiver, _ body: @escaping @Sendable (URL) async throws -> Void) async throws {
        let app = Application(router: receiver.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body(try #require(URL(string: "http://127.0.0.1:\(port)/hook")))
        }
    }

    @Test("the request carries Standard Webhooks headers that verify, the id as Idempotency-Key, and the appointment")
    func signedRequest() async throws {
        let receiver = Receiver(statuses: [200])
        let delivery = try delivery()
        try await withReceiver(receiver) { url in try await sender(url).send(delivery) }
        let hit = try #require(receiver.hits.first)
        #expect(hit.id == "41")
        #expect(hit.timestamp == "1803891600")
        #expect(
            hit.signature
                == WebhookSignature.sign(
                    id: "41", timestamp: 1_803_891_600, body: hit.body, secret: try WebhookSecret(secret)))
        try hit.verify(secrets: [try WebhookSecret(secret)], now: clock.now())
        #expect(hit.idempotencyKey == "41")
        #expect(hit.contentType == "application/json")
        let json = try #require(try JSONSerialization.jsonObject(with: hit.body) as? [String: Any])
        #expect(json["notification_id"] as? Int == 41)
        #expect(json["kind"] as? String == "booked")
        let appointment = try #require(json["appointment"] as? [String: Any])
        #expect(appointment["slot_start"] as? String == "2027-03-01T09:00:00.000Z")
        #expect(appointment["customer_email"] as? String == "ada@example.com")
        // Every field the API writes, the empty ones as null, as GET /api/appointments/:id does.
        #expect(
            Set(appointment.keys) == [
                "id", "resource", "slot_start", "slot_end", "customer_name", "customer_email", "note", "status",
                "created_at", "updated_at", "cancelled_at", "sequence",
            ])
        #expect(appointment["note"] is NSNull && appointment["cancelled_at"] is NSNull)
    }

    @Test("a rescheduled notification carries its sequence and the slot the appointment left; others carry sequence 0")
    func rescheduledPayload() async throws {
        let booked = try delivery()
        var notification = booked.notification
        notification.kind = .rescheduled
        notification.sequence = 2
        notification.previousSlot = booked.appointment.slot
        var appointment = booked.appointment
        appointment.slot = try TimeSlot(
            start: appointment.slot.start.addingTimeInterval(3600), end: appointment.slot.end.addingTimeInterval(3600))
        appointment.sequence = 2
        let moved = NotificationDelivery(notification: notification, appointment: appointment)
        let bodies = try await receivedBodies(sending: [booked, moved])
        #expect(bodies[0]["sequence"] as? Int == 0)
        #expect(bodies[0]["previous_slot"] == nil)
        #expect(bodies[1]["kind"] as? String == "rescheduled")
        #expect(bodies[1]["sequence"] as? Int == 2)
        #expect(
            bodies[1]["previous_slot"] as? [String: String] == [
                "start": "2027-03-01T09:00:00.000Z", "end": "2027-03-01T09:30:00.000Z",
            ])
        let current = try #require(bodies[1]["appointment"] as? [String: Any])
        #expect(current["slot_start"] as? String == "2027-03-01T10:00:00.000Z")
        #expect(current["sequence"] as? Int == 2)
    }

    @Test("a configured calendar closure's file travels as `calendar`, signed with the rest; without one there is none")
    func calendarAttachment() async throws {
        let receiver = Receiver(statuses: [200, 200])
        let delivery = try delivery()
        let calendar = AppointmentCalendar(domain: "booking.example.com")
        try await withReceiver(receiver) { url in
            try await sender(url).send(delivery)
            let attaching = WebhookNotificationSender(
                configuration: try .init(
                    url: url, secrets: [secret],
                    calendar: { calendar.message(for: $0.appointment, summary: "Appointment", now: clock.now()) }),
                clock: clock)
            try await attaching.send(delivery)
        }
        let hits = receiver.hits
        try #require(hits.count == 2)
        let plain = try #require(try JSONSerialization.jsonObject(with: hits[0].body) as? [String: Any])
        #expect(plain["calendar"] == nil)
        try hits[1].verify(secrets: [try WebhookSecret(secret)], now: clock.now())
        let attached = try #require(try JSONSerialization.jsonObject(with: hits[1].body) as? [String: Any])
        let file = try #require(attached["calendar"] as? String)
        #expect(file == calendar.message(for: delivery.appointment, summary: "Appointment", now: clock.now()))
        let created = delivery.appointment.createdAt.millisecondsSince1970
        #expect(file.contains("\r\nUID:appointment-7-\(created)@booking.example.com\r\n"))
    }

    @Test("a reminder carries its lead in minutes and its sequence; other kinds carry no lead")
    func reminderPayload() async throws {
        let booked = try delivery()
        var notification = booked.notification
        notification.kind = .reminder
        notification.sequence = 1
        notification.reminderLead = .minutes(1440)
        var appointment = booked.appointment
        appointment.sequence = 1
        let reminder = NotificationDelivery(notification: notification, appointment: appointment)
        let bodies = try await receivedBodies(sending: [booked, reminder])
        #expect(bodies[0]["lead_minutes"] == nil)
        #expect(bodies[1]["kind"] as? String == "reminder")
        #expect(bodies[1]["lead_minutes"] as? Int == 1440)
        #expect(bodies[1]["sequence"] as? Int == 1)
        #expect(bodies[1]["previous_slot"] == nil)
    }

    /// The JSON bodies a receiver gets when `deliveries` are sent one after another.
    func receivedBodies(sending deliveries: [NotificationDelivery]) async throws -> [[String: Any]] {
        let receiver = Receiver(statuses: deliveries.map { _ in 200 })
        try await withReceiver(receiver) { url in
            for delivery in deliveries { try await sender(url).send(delivery) }
        }
        let bodies = try receiver.hits.map {
            try #require(try JSONSerialization.jsonObject(with: $0.body) as? [String: Any])
        }
        try #require(bodies.count == deliveries.count)
        return bodies
    }

    @Test("with two secrets the request carries two signatures, and a receiver holding either one verifies it")
    func rotation() async throws {
        let old = WebhookSecret.generate()
        let new = WebhookSecret.generate()
        let receiver = Receiver(statuses: [200])
        let delivery = try delivery()
        try await withReceiver(receiver) { url in try await sender(url, secrets: [new, old]).send(delivery) }
        let hit = try #require(receiver.hits.first)
        let signatures = try #require(hit.signature).split(separator: " ")
        #expect(signatures.count == 2 && signatures.allSatisfy { $0.hasPrefix("v1,") })
        try hit.verify(secrets: [try WebhookSecret(old)], now: clock.now())
        try hit.verify(secrets: [try WebhookSecret(new)], now: clock.now())
        let stranger = try WebhookSecret(WebhookSecret.generate())
        let error = #expect(throws: WebhookSignature.VerificationError.self) {
            try hit.verify(secrets: [stranger], now: clock.now())
        }
        #expect(error?.reason == .noMatchingSignature)
    }

    @Test(
        "2xx is delivered; 408, 429 and 5xx are transient; 410 and other 4xx are permanent",
        arguments: [
            (200, nil), (204, nil), (408, false), (429, false), (500, false), (503, false), (400, true), (401, true),
            (404, true), (410, true),
        ] as [(Int, Bool?)])
    func statusCodes(status: Int, permanent: Bool?) async throws {
        let receiver = Receiver(statuses: [status])
        let delivery = try delivery()
        try await withReceiver(receiver) { url in
            do {
                try await sender(url).send(delivery)
                #expect(permanent == nil, "HTTP \(status) must fail")
            } catch let failure as DeliveryFailure {
                #expect(failure.isPermanent == permanent, "HTTP \(status)")
                #expect(failure.reason == "HTTP \(status)")
                #expect(failure.retryAfter == nil)
            }
        }
    }

    @Test(
        "a redirect is not followed: 301, 302, 307 and 308 are transient failures, and the new place is never asked",
        arguments: [301, 302, 307, 308])
    func redirects(status: Int) async throws {
        let receiver = Receiver(statuses: [status], headers: ["Location": "/moved"])
        let delivery = try delivery()
        try await withReceiver(receiver) { url in
            let failure = await #expect(throws: DeliveryFailure.self) { try await sender(url).send(delivery) }
            #expect(failure?.isPermanent == false)
            #expect(failure?.reason == "HTTP \(status)")
            #expect(receiver.hits.count == 1)
            #expect(receiver.movedHits == 0, "the redirect was followed")
        }
    }

    @Test(
        "on every retried status the receiver's Retry-After (seconds or an HTTP-date) becomes the failure's retryAfter",
        arguments: [
            (429, "120", .seconds(120)),
            (503, "120", .seconds(120)),
            (429, "Mon, 01 Mar 2027 09:01:30 GMT", .seconds(90)),  // IMF-fixdate, 90 s after the attempt
            (503, "Monday, 01-Mar-27 09:01:30 GMT", .seconds(90)),  // obsolete RFC 850 form
            (503, "Mon Mar  1 09:01:30 2027", .seconds(90)),  // obsolete asctime form
            (429, "Mon, 01 Mar 2027 08:00:00 GMT", .zero),  // in the past: no extra wait
            (429, "soon", nil),  // unreadable: the backoff decides
            (408, "30", .seconds(30)),
            (500, "120", .seconds(120)),
            (502, "Mon, 01 Mar 2027 09:01:30 GMT", .seconds(90)),
            (307, "60", .seconds(60)),  // a redirect, retried like a 5xx
        ] as [(Int, String, Duration?)])
    func retryAfter(status: Int, header: String, expected: Duration?) async throws {
        let receiver = Receiver(statuses: [status], headers: ["Retry-After": header])
        let delivery = try delivery()
        try await withReceiver(receiver) { url in
            let failure = await #expect(throws: DeliveryFailure.self) { try await sender(url).send(delivery) }
            #expect(failure?.isPermanent == false)
            #expect(failure?.retryAfter == expected, "Retry-After: \(header)")
        }
    }

    @Test(
        "a timeout of .max sends (it counts as 1 h); one below zero counts as 1 ms and fails transiently, never a trap")
    func timeoutOutOfRange() async throws {
        let receiver = Receiver(statuses: [200, 200], delay: .milliseconds(50))
        let delivery = try delivery()
        try await withReceiver(receiver) { url in
            try await sender(url, timeout: .seconds(Int64.max)).send(delivery)
            #expect(receiver.hits.count == 1, "the receiver has it")
            let failure = await #expect(throws: DeliveryFailure.self) {
                try await sender(url, timeout: .seconds(Int64.min)).send(delivery)
            }
            #expect(failure?.isPermanent == false)
        }
    }

    @Test("a clock reading outside the years 0001-9999 (NaN, 1e300, year 10000) fails transiently and sends nothing")
    func clockWithoutATimestamp() async throws {
        let receiver = Receiver(statuses: [200])
        let delivery = try delivery()
        try await withReceiver(receiver) { url in
            for reading: Double in [.nan, 1e300, -.infinity, 253_402_300_801] {
                clock.set(to: Date(timeIntervalSince1970: reading))
                let failure = await #expect(throws: DeliveryFailure.self, "\(reading)") {
                    try await sender(url).send(delivery)
                }
                #expect(failure?.isPermanent == false)
                #expect(failure?.reason == "the sender's clock reads outside the years 0001-9999")
            }
            #expect(receiver.hits.isEmpty)
        }
    }

    @Test("a receiver slower than the timeout is a transient failure")
    func timeout() async throws {
        // Held until the sender gave up, however long a busy machine takes to time it out; a sender that never
        // gives up gets its answer after 30 s, and the test fails rather than hangs.
        let held = Gate()
        let receiver = Receiver(statuses: [200], heldBy: held)
        let delivery = try delivery()
        let fallback = Task {
            try await Task.sleep(for: .seconds(30))
            held.open()
        }
        defer { fallback.cancel() }
        try await withReceiver(receiver) { url in
            let sender = try sender(url, timeout: .milliseconds(300))
            let failure = await #expect(throws: DeliveryFailure.self) { try await sender.send(delivery) }
            held.open()
            #expect(failure?.isPermanent == false)
        }
    }

    @Test("an unreachable receiver is a transient failure whose reason names the error kind, not the URL")
    func unreachable() async throws {
        let url = try #require(URL(string: "http://127.0.0.1:9/hook?token=abc123"))
        let sender = try sender(url, timeout: .seconds(2))
        let failure = await #expect(throws: DeliveryFailure.self) { try await sender.send(try delivery()) }
        #expect(failure?.isPermanent == false)
        let reason = try #require(failure?.reason)
        #expect(reason.hasPrefix("the webhook request failed: "))
        #expect(!reason.contains("127.0.0.1") && !reason.contains("token") && !reason.contains(":9"), "\(reason)")
    }

    @Test(
        "a bad secret is refused with the setting named, a way to make one, and never the secret itself",
        arguments: [
            ("s3cret-without-prefix", "whsec_"),
            ("whsec_not*base64!", "base64"),
            ("whsec_" + Data(repeating: 7, count: 16).base64EncodedString(), "16 bytes, fewer than the 24"),
            ("whsec_" + Data(repeating: 7, count: 65).base64EncodedString(), "more than the 64"),
        ])
    func badSecret(text: String, expected: String) throws {
        let url = try #require(URL(string: "http://example.com/hook"))
        let error = #expect(throws: BookingError.self) {
            try WebhookNotificationSender.Configuration(url: url, secrets: [secret, text])
        }
        let message = try #require(error?.fieldErrors["webhookSecret"])
        #expect(message.contains(expected), "\(message)")
        #expect(message.contains("whsec_$(openssl rand -base64 32)"), "\(message)")
        #expect(!message.contains(String(text.dropFirst(6))), "\(message)")
        #expect(error?.code == .invalidInput)
    }

    @Test("a bad URL or no secret at all is refused with the setting named")
    func badConfiguration() throws {
        let ftp = try #require(URL(string: "ftp://example.com/hook"))
        #expect(
            #expect(throws: BookingError.self) {
                try WebhookNotificationSender.Configuration(url: ftp, secrets: [secret])
            }?.fieldErrors["webhookUrl"] != nil)
        for text in [
            "http://127.0.0.1:99999/hook", "http://[::1]:70000/", "https://example.com:0/hook", "http:///hook",
            "http://example.com:99999999999999999999999/hook",
        ] {
            let url = try #require(URL(string: text))
            #expect(
                #expect(throws: BookingError.self) {
                    try WebhookNotificationSender.Configuration(url: url, secrets: [secret])
                }?.fieldErrors["webhookUrl"] != nil, "\(text)")
        }
        let http = try #require(URL(string: "http://example.com/hook"))
        #expect(
            #expect(throws: BookingError.self) {
                try WebhookNotificationSender.Configuration(url: http, secrets: [String]())
            }?.fieldErrors["webhookSecret"]?.contains("at least one") == true)
    }

    @Test("descriptions and reflection show the endpoint's host, never its path, query or a secret")
    func descriptions() throws {
        let url = try #require(URL(string: "https://hooks.example:8443/services/T0/B0/pathtoken?key=querytoken"))
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let sender = WebhookNotificationSender(
            configuration: try .init(url: url, secrets: ["whsec_" + key]), clock: clock)
        for text in [String(describing: sender), String(reflecting: sender), "\(sender)"] {
            #expect(text.contains("https://hooks.example:8443/…"), "\(text)")
            #expect(!text.contains("pathtoken") && !text.contains("querytoken") && !text.contains(key), "\(text)")
        }
        #expect(!String(describing: [sender]).contains("pathtoken"), "inside a collection too")
        // ServiceLifecycle logs a service's description at debug: the dispatcher that holds the sender.
        let dispatcher = NotificationDispatcher(store: InMemoryStore(), sender: sender, logger: Logger(label: "test"))
        #expect(String(describing: dispatcher).contains("https://hooks.example:8443/…"))
        #expect(!String(describing: dispatcher).contains("pathtoken"))
    }

    @Test("a relative URL is checked as it resolves: a base with a bad port is refused")
    func relativeURL() throws {
        let base = try #require(URL(string: "http://127.0.0.1:70000/"))
        let url = try #require(URL(string: "hook?token=abc", relativeTo: base))
        let error = #expect(throws: BookingError.self) {
            try WebhookNotificationSender.Configuration(url: url, secrets: [secret])
        }
        #expect(error?.fieldErrors["webhookUrl"]?.contains("70000") == true)
    }

    @Test("a URL set to a bad port after the configuration was made fails the send for good, without a request")
    func badURLSetLater() async throws {
        var configuration = try WebhookNotificationSender.Configuration(
            url: try #require(URL(string: "http://127.0.0.1:8080/hook")), secrets: [secret])
        configuration.url = try #require(URL(string: "http://127.0.0.1:70000/hook"))
        let sender = WebhookNotificationSender(configuration: configuration, clock: clock)
        let failure = await #expect(throws: DeliveryFailure.self) { try await sender.send(try delivery()) }
        #expect(failure?.isPermanent == true)
        #expect(failure?.reason.contains("70000") == true && failure?.reason.contains("127.0.0.1") == false)
    }

    /// An in-memory store with one booking whose `booked` notification is due, and a dispatcher
    /// delivering it through a webhook sender to `url`.
    func bookedDispatcher(url: URL, secret: String, clock: ManualWallClock) async throws
        -> (InMemoryStore, NotificationDispatcher)
    {
        let store = InMemoryStore()
        let service = BookingService(store: store, clock: clock)
        let slot = try #require(try await service.availability().first)
        _ = try await service.book(
            BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada", email: "ada@example.com"))
        let sender = WebhookNotificationSender(configuration: try .init(url: url, secrets: [secret]), clock: clock)
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender, clock: clock, logger: Logger(label: "test"))
        return (store, dispatcher)
    }

    @Test("through a dispatcher: a 503 is retried after the backoff with a new timestamp and the same id")
    func throughDispatcher() async throws {
        let receiver = Receiver(statuses: [503, 200])
        let clock = ManualWallClock(now: Date(millisecondsSince1970: 1_803_888_000_000))
        let secret = secret
        try await withReceiver(receiver) { url in
            let (store, dispatcher) = try await bookedDispatcher(url: url, secret: secret, clock: clock)
            #expect(try await dispatcher.drain().retried == 1)
            clock.advance(by: .seconds(3))
            #expect(try await dispatcher.drain().sent == 1)
            let notification = try #require(await store.notifications(appointmentID: nil).first)
            #expect(notification.status == .sent && notification.attempts == 2 && notification.lastError == "HTTP 503")
        }
        let hits = receiver.hits
        #expect(hits.map(\.id) == ["1", "1"])
        #expect(hits.map(\.idempotencyKey) == ["1", "1"])
        #expect(hits.map(\.timestamp) == ["1803888000", "1803888003"])
        // Each attempt verifies at its own time, and the first is a replay by the time of the second.
        try hits[0].verify(secrets: [try WebhookSecret(secret)], now: Date(timeIntervalSince1970: 1_803_888_000))
        try hits[1].verify(secrets: [try WebhookSecret(secret)], now: clock.now())
        #expect(throws: WebhookSignature.VerificationError.self) {
            try hits[0].verify(secrets: [try WebhookSecret(secret)], now: clock.now().addingTimeInterval(400))
        }
    }

    @Test("through a dispatcher: a 429 with Retry-After waits that long, and a 410 fails at once")
    func dispatcherHonoursRetryAfterAndGone() async throws {
        let receiver = Receiver(statuses: [429, 410], headers: ["Retry-After": "900"])
        let clock = ManualWallClock(now: Date(millisecondsSince1970: 1_803_888_000_000))
        let secret = secret
        try await withReceiver(receiver) { url in
            let (store, dispatcher) = try await bookedDispatcher(url: url, secret: secret, clock: clock)
            #expect(try await dispatcher.drain().retried == 1)
            let waiting = try #require(await store.notifications(appointmentID: nil).first)
            #expect(waiting.nextAttemptAt == clock.now().addingTimeInterval(900))
            clock.advance(by: .seconds(899))
            #expect(try await dispatcher.drain().claimed == 0)
            clock.advance(by: .seconds(1))
            #expect(try await dispatcher.drain().failed == 1)
            let failed = try #require(await store.notifications(appointmentID: nil).first)
            #expect(failed.status == .failed && failed.attempts == 2 && failed.lastError == "HTTP 410")
        }
        #expect(receiver.hits.count == 2)
    }
}
