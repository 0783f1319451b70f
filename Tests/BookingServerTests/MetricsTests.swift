import BookingDomain
import BookingTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemoryStore
import Logging
import Prometheus
import Synchronization
import Testing

@testable import BookingServer

@Suite("metrics: the counters made once still count each event")
struct MetricsTests {
    /// The value of `series` (a name with its labels, as `/metrics` writes it) in the registry now; 0 when absent.
    static func value(of series: String) -> Double {
        let text = String(decoding: MetricsRegistry.shared.emitToBuffer(), as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
        return line.flatMap { Double($0.dropFirst(series.count + 1)) } ?? 0
    }

    @Test("a booking, a conflict, a cancel and a hold each move their counter")
    func apiCounters() async throws {
        let series = [
            "booking_bookings_total", "booking_conflicts_total", "booking_cancellations_total",
            "booking_holds_total",
        ]
        try await withAPI(.memory) { client, _ in
            let before = series.map(Self.value(of:))
            let booked = try await client.book(try bookingBody("2027-03-01T10:00:00Z"))
            #expect(booked.status == .created)
            #expect(try await client.book(try bookingBody("2027-03-01T10:00:00Z")).status == .conflict)
            let id = try #require(try object(booked)["id"] as? Int)
            let cancel = try await client.execute(
                uri: "/api/appointments/\(id)/cancel", method: .post, headers: adminHeaders)
            #expect(cancel.status == .ok)
            let hold = try await client.execute(
                uri: "/api/holds", method: .post, headers: [.contentType: "application/json"],
                body: try slotBody("2027-03-01T11:00:00Z"))
            #expect(hold.status == .created)
            // Other tests of this process may count too: each counter moved at least by this test's one.
            for (name, (old, new)) in zip(series, zip(before, series.map(Self.value(of:)))) {
                #expect(new >= old + 1, "\(name): \(old) then \(new)")
            }
        }
    }

    @Test(
        "labels stay bounded: a method not HTTP's own is _OTHER, and a request no route took is labelled by its answer")
    func boundedLabels() throws {
        for method in [HTTPRequest.Method.get, .head, .post, .put, .patch, .delete, .options] {
            #expect(RequestMetricsMiddleware<BasicRequestContext>.methodLabel(method) == method.rawValue)
        }
        for name in ["PURGE", "PROPFIND", "CONNECT", "TRACE", "GAUGETEST"] {
            #expect(RequestMetricsMiddleware<BasicRequestContext>.methodLabel(try #require(.init(name))) == "_OTHER")
        }
        let unmatched = RequestMetricsMiddleware<BasicRequestContext>.unmatchedRoute
        #expect(unmatched(.get, .notFound) == "NotFound")
        #expect(unmatched(.options, .notFound) == "NotFound")
        #expect(unmatched(.delete, .methodNotAllowed) == "MethodNotAllowed")
        #expect(unmatched(.options, .noContent) == "Preflight")
        #expect(unmatched(.get, .badRequest) == "Unmatched")
    }

    @Test("the host's router labels a 405 MethodNotAllowed and a 404 NotFound, not both NotFound")
    func unmatchedRoutesOfTheHost() async throws {
        _ = MetricsRegistry.shared  // bootstraps the metrics system before the middleware makes its metrics
        let series = { (route: String, status: Int) in
            "http_server_requests_total{http_route=\"\(route)\",http_request_method=\"PATCH\",http_response_status_code=\"\(status)\"}"
        }
        let before = (Self.value(of: series("MethodNotAllowed", 405)), Self.value(of: series("NotFound", 404)))
        try await withAPI(.memory) { client, _ in
            let wrongMethod = try await client.execute(uri: "/api/appointments", method: .patch)
            let noRoute = try await client.execute(uri: "/api/nothing-here", method: .patch)
            #expect(wrongMethod.status == .methodNotAllowed && noRoute.status == .notFound)
        }
        #expect(Self.value(of: series("MethodNotAllowed", 405)) >= before.0 + 1)
        #expect(Self.value(of: series("NotFound", 404)) >= before.1 + 1)
    }

    @Test(
        "a request leaves the active-requests gauge once its handler has answered or thrown, not after its body's write (which never comes when the client has gone)"
    )
    func activeRequestsEndWithTheHandler() async throws {
        _ = MetricsRegistry.shared  // bootstraps the metrics system before the middleware makes its metrics
        // A method none of the other tests sends (labelled _OTHER), so their requests running meanwhile are not counted
        // in the same series.
        let method = try #require(HTTPRequest.Method("GAUGETEST"))
        let series = "http_server_active_requests{http_request_method=\"_OTHER\"}"
        final class Readings: Sendable {
            let values = Mutex<[Double]>([])
            func read(_ series: String) { values.withLock { $0.append(MetricsTests.value(of: series)) } }
        }
        let readings = Readings()
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware())
        router.on("/", method: method) { _, _ in
            readings.read(series)  // in the handler
            return Response(
                status: .ok,
                body: ResponseBody { writer in
                    readings.read(series)  // while the body is written
                    try await writer.write(ByteBuffer(string: "ok"))
                })
        }
        router.on("/fails", method: method) { _, _ -> Response in
            readings.read(series)
            throw HTTPError(.conflict)
        }
        try await Application(router: router).test(.router) { client async throws in
            let answered = try await client.execute(uri: "/", method: method)
            let refused = try await client.execute(uri: "/fails", method: method)
            #expect(answered.status == .ok && refused.status == .conflict)
        }
        #expect(readings.values.withLock { $0 } == [1, 0, 1])
        #expect(Self.value(of: series) == 0)
        #expect(
            Self.value(
                of:
                    "http_server_requests_total{http_route=\"/fails\",http_request_method=\"_OTHER\",http_response_status_code=\"409\"}"
            )
                == 1)
    }

    @Test("a sent notification moves its kind's counter and delivery timer; a failed one its kind's failures")
    func dispatcherMetrics() async throws {
        _ = MetricsRegistry.shared  // bootstraps the metrics system before the dispatcher makes its metrics
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 1_803_888_000))
        let store = InMemoryStore()
        let service = BookingService(store: store, clock: clock)
        let slots = try await service.availability()
        let booked = try await service.book(
            BookingRequest(slotStart: slots[0].start, slotEnd: slots[0].end, name: "Ada", email: "ada@example.com"))
        let logger = Logger(label: "metrics-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let sent = "booking_notifications_sent_total{kind=\"booked\"}"
        let delivered = "booking_notification_delivery_seconds_count{kind=\"booked\"}"
        let failed = "booking_notifications_failed_total{kind=\"cancelled\"}"
        let before = [sent, delivered, failed].map(Self.value(of:))
        let sender = RecordingNotificationSender()
        #expect(
            try await NotificationDispatcher(store: store, sender: sender, clock: clock, logger: logger)
                .drain().sent == 1)
        _ = try await service.cancel(id: booked.appointment.id, authorization: .admin)
        let refusing = RecordingNotificationSender { _, _ in .permanent("HTTP 410") }
        #expect(
            try await NotificationDispatcher(store: store, sender: refusing, clock: clock, logger: logger)
                .drain().failed == 1)
        let after = [sent, delivered, failed].map(Self.value(of:))
        for (name, (old, new)) in zip([sent, delivered, failed], zip(before, after)) {
            #expect(new >= old + 1, "\(name): \(old) then \(new)")
        }
    }
}
