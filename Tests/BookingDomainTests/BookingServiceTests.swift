import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Testing

@Suite("booking service")
struct BookingServiceTests {
    let clock = ManualWallClock(now: instant("2027-03-01T08:00:00Z"))
    let store = InMemoryStore()
    var service: BookingService {
        BookingService(store: store, configuration: .init(defaultSchedule: .standard(in: zone("UTC"))), clock: clock)
    }

    func request(
        _ start: String = "2027-03-01T10:00:00Z", minutes: Int = 30, name: String = "Ada Lovelace",
        email: String = "ada@example.com", note: String? = nil, key: String? = nil
    ) -> BookingRequest {
        let slotStart = instant(start)
        return BookingRequest(
            slotStart: slotStart, slotEnd: slotStart.addingTimeInterval(Double(minutes) * 60), name: name, email: email,
            note: note, idempotencyKey: key)
    }

    func bookingError(_ request: BookingRequest) async -> BookingError? {
        await #expect(throws: BookingError.self) { try await service.book(request) }
    }

    @Test("a booking trims the fields, returns a cancel token, and enqueues one booked notification")
    func booking() async throws {
        let confirmation = try await service.book(
            request(name: "  Ada Lovelace \n", email: " ada@example.com ", note: "  hi  "))
        #expect(confirmation.created)
        #expect(confirmation.appointment.customerName == "Ada Lovelace")
        #expect(confirmation.appointment.customerEmail == "ada@example.com")
        #expect(confirmation.appointment.note == "hi")
        #expect(confirmation.cancelToken?.count == 43)
        #expect(try await service.notifications().map(\.kind) == [.booked])
        let record = try #require(await store.record(id: confirmation.appointment.id))
        #expect(record.cancelTokenHash.count == 64)
        #expect(record.cancelTokenHash != confirmation.cancelToken)
    }

    @Test(
        "each field rule gives invalid input naming the field",
        arguments: [
            (
                "name",
                BookingRequest(
                    slotStart: instant("2027-03-01T10:00:00Z"), slotEnd: instant("2027-03-01T10:30:00Z"), name: "   ",
                    email: "a@b.co")
            ),
            (
                "name",
                BookingRequest(
                    slotStart: instant("2027-03-01T10:00:00Z"), slotEnd: instant("2027-03-01T10:30:00Z"),
                    name: String(repeating: "x", count: 201), email: "a@b.co")
            ),
            (
                "email",
                BookingRequest(
                    slotStart: instant("2027-03-01T10:00:00Z"), slotEnd: instant("2027-03-01T10:30:00Z"), name: "Ada",
                    email: "ada.example.com")
            ),
            (
                "email",
                BookingRequest(
                    slotStart: instant("2027-03-01T10:00:00Z"), slotEnd: instant("2027-03-01T10:30:00Z"), name: "Ada",
                    email: "ada@example")
            ),
            (
                "email",
                BookingRequest(
                    slotStart: instant("2027-03-01T10:00:00Z"), slotEnd: instant("2027-03-01T10:30:00Z"), name: "Ada",
                    email: "@example.com")
            ),
            (
                "email",
                BookingRequest(
                    slotStart: instant("2027-03-01T10:00:00Z"), slotEnd: instant("2027-03-01T10:30:00Z"), name: "Ada",
                    email: "a@@example.com")
            ),
            (
                "email",
                BookingRequest(
                    slotStart: instant("2027-03-01T10:00:00Z"), slotEnd: instant("2027-03-01T10:30:00Z"), name: "Ada",
                    email: String(repeating: "a", count: 250) + "@b.co")
            ),
            (
                "note",
                BookingRequest(
                    slotStart: instant("2027-03-01T10:00:00Z"), slotEnd: instant("2027-03-01T10:30:00Z"), name: "Ada",
                    email: "a@b.co", note: String(repeating: "n", count: 501))
            ),
            (
                "slotEnd",
                BookingRequest(
                    slotStart: instant("2027-03-01T10:00:00Z"), slotEnd: instant("2027-03-01T10:00:00Z"), name: "Ada",
                    email: "a@b.co")
            ),
            (
                "idempotencyKey",
                BookingRequest(
                    slotStart: instant("2027-03-01T10:00:00Z"), slotEnd: instant("2027-03-01T10:30:00Z"), name: "Ada",
                    email: "a@b.co", idempotencyKey: "has space")
            ),
        ])
    func fieldRules(field: String, request: BookingRequest) async throws {
        let error = await bookingError(request)
        #expect(error?.code == .invalidInput)
        #expect(error?.fieldErrors.keys.contains(field) == true)
        #expect(await store.appointments().isEmpty)
    }

    @Test("several bad fields are all reported at once, and the description names fields but not values")
    func allProblemsAtOnce() async {
        let error = await bookingError(request(name: "", email: "secret-address"))
        #expect(Set(error?.fieldErrors.keys ?? [:].keys) == ["name", "email"])
        #expect(error?.description.contains("secret-address") == false)
    }

    @Test("limits are inclusive: 200-character name, 254-character email, 500-character note")
    func limits() async throws {
        let email = String(repeating: "a", count: 254 - "@b.co".count) + "@b.co"
        let confirmation = try await service.book(
            request(name: String(repeating: "n", count: 200), email: email, note: String(repeating: "x", count: 500)))
        #expect(confirmation.appointment.customerEmail.count == 254)
    }

    @Test(
        "a slot the schedule does not offer is refused with the reason",
        arguments: [
            ("2027-03-01T10:10:00Z", 30, "grid"),
            ("2027-03-01T07:00:00Z", 30, "past"),
            ("2027-03-01T17:00:00Z", 30, "grid"),
            ("2027-03-01T10:00:00Z", 60, "grid"),
            ("2027-03-09T10:00:00Z", 30, "horizon"),
        ])
    func notOffered(start: String, minutes: Int, reason: String) async {
        let error = await bookingError(request(start, minutes: minutes))
        #expect(error?.code == .slotNotOffered)
        #expect(error?.message.contains(reason) == true)
    }

    @Test("an unlisted resource follows the default schedule; without one it is not found")
    func resources() async throws {
        var room = request()
        room.resource = "room-1"
        #expect(try await service.book(room).appointment.resource == "room-1")
        let strict = BookingService(
            store: store, configuration: .init(defaultSchedule: nil, schedules: ["room-1": .standard(in: zone("UTC"))]),
            clock: clock)
        room.resource = "room-2"
        let error = await #expect(throws: BookingError.self) { try await strict.book(room) }
        #expect(error?.code == .notFound)
    }

    @Test("the same idempotency key and request returns the original appointment and its cancel token")
    func idempotentReplay() async throws {
        let first = try await service.book(request(key: "k-1"))
        clock.advance(by: .minutes(90))  // the slot is now too soon, but a replay still answers
        let again = try await service.book(request(key: "k-1"))
        #expect(again.appointment == first.appointment)
        #expect(!again.created)
        #expect(again.cancelToken != nil)
        #expect(again.cancelToken == first.cancelToken)
        #expect(await store.appointments().count == 1)
        let token = try #require(again.cancelToken)
        #expect(
            try await service.cancel(id: again.appointment.id, authorization: .cancelToken(token)).appointment.status
                == .cancelled)
    }

    @Test("the database holds neither the idempotency key nor the cancel token: only a hash and a sealed copy")
    func replaySecretsAtRest() async throws {
        let first = try await service.book(request(key: "8e03978e-40d5-43e8-bc93-6894a57f9324"))
        let token = try #require(first.cancelToken)
        let record = try #require(await store.record(id: first.appointment.id))
        #expect(
            record.idempotencyKey == AppointmentRecord.storedIdempotencyKey(for: "8e03978e-40d5-43e8-bc93-6894a57f9324")
        )
        #expect(record.idempotencyKey?.contains("8e03978e") == false)
        let sealed = try #require(record.sealedCancelToken)
        #expect(!sealed.contains(token))
        #expect(Data(base64Encoded: sealed).map { String(decoding: $0, as: UTF8.self).contains(token) } == false)
        // Another key (with the same stored row planted under it) cannot open the seal.
        let other = InMemoryStore()
        var planted = NewAppointment(
            resource: .default, slot: first.appointment.slot, occupied: first.appointment.occupied,
            customerName: "Ada Lovelace", customerEmail: "ada@example.com", note: nil,
            cancelTokenHash: record.cancelTokenHash,
            idempotencyKey: AppointmentRecord.storedIdempotencyKey(for: "guess"),
            requestFingerprint: record.requestFingerprint, now: clock.now())
        planted.sealedCancelToken = sealed
        _ = try await other.insert(planted)
        let guesser = BookingService(
            store: other, configuration: .init(defaultSchedule: .standard(in: zone("UTC"))), clock: clock)
        let replay = try await guesser.book(request(key: "guess"))
        #expect(!replay.created)
        #expect(replay.cancelToken == nil)
    }

    @Test("the same idempotency key with a different request is refused")
    func idempotencyKeyReused() async throws {
        _ = try await service.book(request(key: "k-2"))
        let error = await bookingError(request("2027-03-01T11:00:00Z", key: "k-2"))
        #expect(error?.code == .idempotencyKeyReused)
        let otherName = await bookingError(request(name: "Grace", key: "k-2"))
        #expect(otherName?.code == .idempotencyKeyReused)
    }

    @Test("200 concurrent retries with one key make one appointment")
    func concurrentRetries() async throws {
        let service = self.service
        let request = self.request(key: "k-3")
        let ids = await withTaskGroup(of: Int64?.self) { group in
            for _ in 0..<200 { group.addTask { try? await service.book(request).appointment.id } }
            return await group.reduce(into: [Int64?]()) { $0.append($1) }
        }
        #expect(ids.allSatisfy { $0 != nil })
        #expect(Set(ids).count == 1)
        #expect(await store.appointments().count == 1)
    }

    @Test("cancel needs the right token or admin, is idempotent, and enqueues one cancelled notification")
    func cancel() async throws {
        let booking = try await service.book(request())
        let id = booking.appointment.id
        let wrong = await #expect(throws: BookingError.self) {
            try await service.cancel(id: id, authorization: .cancelToken("wrong"))
        }
        let unknown = await #expect(throws: BookingError.self) {
            try await service.cancel(id: 999, authorization: .admin)
        }
        #expect(unknown?.code == .notFound)
        #expect(wrong?.code == .forbidden, "a wrong token is a wrong credential")
        #expect(try await service.appointment(id: id, authorization: .admin).status == .booked, "and changed nothing")
        clock.advance(by: .seconds(60))
        let outcome = try await service.cancel(id: id, authorization: .cancelToken(try #require(booking.cancelToken)))
        guard case .cancelled(let cancelled) = outcome else {
            Issue.record("the first cancel answered \(outcome)")
            return
        }
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.cancelledAt == clock.now())
        clock.advance(by: .seconds(60))
        let again = try await service.cancel(id: id, authorization: .admin)
        #expect(again == .alreadyCancelled(cancelled))
        #expect(try await service.notifications(appointmentID: id).map(\.kind) == [.booked, .cancelled])
    }

    @Test("reading one appointment needs its token or admin; another's token is forbidden, an unknown id not found")
    func readOne() async throws {
        let booking = try await service.book(request())
        let id = booking.appointment.id
        #expect(
            try await service.appointment(id: id, authorization: .cancelToken(try #require(booking.cancelToken)))
                == booking.appointment)
        #expect(try await service.appointment(id: id, authorization: .admin) == booking.appointment)
        let other = try await service.book(request("2027-03-01T11:00:00Z"))
        let error = await #expect(throws: BookingError.self) {
            try await service.appointment(id: id, authorization: .cancelToken(try #require(other.cancelToken)))
        }
        let unknown = await #expect(throws: BookingError.self) {
            try await service.appointment(id: 424_242, authorization: .cancelToken("anything"))
        }
        #expect(error?.code == .forbidden)
        #expect(unknown?.code == .notFound)
    }

    @Test("an admin retry moves a failed notification back to pending")
    func retryNotification() async throws {
        let booking = try await service.book(request())
        let leased = await store.claimNotifications(
            NotificationClaim(
                owner: "w", limit: 1, now: clock.now(), leaseExpiresAt: clock.now().addingTimeInterval(60)))
        _ = await store.finish(
            notification: leased[0].id, owner: "w", outcome: .failed(error: "boom", now: clock.now()))
        let retried = try await service.retryNotification(id: leased[0].id)
        #expect(retried.status == .pending && retried.appointmentID == booking.appointment.id)
        let missing = await #expect(throws: BookingError.self) { try await service.retryNotification(id: 12345) }
        #expect(missing?.code == .notFound)
    }
}
