import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Testing

@Suite("booking service: reschedule")
struct RescheduleServiceTests {
    let clock = ManualWallClock(now: instant("2027-03-01T08:00:00Z"))
    let store = InMemoryStore()
    var service: BookingService {
        BookingService(store: store, configuration: .init(defaultSchedule: .standard(in: zone("UTC"))), clock: clock)
    }

    func slot(_ start: String, minutes: Int = 30) throws -> TimeSlot {
        try TimeSlot(start: instant(start), end: instant(start).addingTimeInterval(Double(minutes) * 60))
    }

    func book(_ start: String = "2027-03-01T10:00:00Z") async throws -> BookingConfirmation {
        let target = try slot(start)
        return try await service.book(
            BookingRequest(slotStart: target.start, slotEnd: target.end, name: "Ada Lovelace", email: "ada@example.com")
        )
    }

    func rescheduleError(
        _ id: Int64, to target: TimeSlot, _ authorization: Authorization = .admin, key: String? = nil
    ) async -> BookingError? {
        await #expect(throws: BookingError.self) {
            try await service.reschedule(id: id, to: target, authorization: authorization, idempotencyKey: key)
        }
    }

    @Test("the holder of the cancel token moves the appointment: same id and token, sequence up, updated now")
    func move() async throws {
        let booking = try await book()
        clock.advance(by: .seconds(60))
        let moved = try await service.reschedule(
            id: booking.appointment.id, to: try slot("2027-03-01T11:00:00Z"),
            authorization: .cancelToken(booking.cancelToken ?? ""))
        #expect(!moved.replayed)
        #expect(moved.appointment.id == booking.appointment.id)
        #expect(moved.appointment.slot == (try slot("2027-03-01T11:00:00Z")))
        #expect(moved.appointment.sequence == 1)
        #expect(moved.appointment.updatedAt == instant("2027-03-01T08:01:00Z"))
        let again = try await service.appointment(
            id: booking.appointment.id, authorization: .cancelToken(booking.cancelToken ?? ""))
        #expect(again == moved.appointment, "the cancel token still opens it")
        #expect(
            try await service.availability(from: instant("2027-03-01T10:00:00Z"), to: instant("2027-03-01T10:30:00Z"))
                .count == 1)
    }

    @Test("a wrong token is forbidden, an unknown id not found; a cancelled appointment cannot move")
    func refusals() async throws {
        let booking = try await book()
        let target = try slot("2027-03-01T11:00:00Z")
        #expect(await rescheduleError(booking.appointment.id, to: target, .cancelToken("guess"))?.code == .forbidden)
        #expect(await rescheduleError(booking.appointment.id + 1, to: target)?.code == .notFound)
        _ = try await service.cancel(id: booking.appointment.id, authorization: .admin)
        #expect(await rescheduleError(booking.appointment.id, to: target)?.code == .appointmentCancelled)
    }

    @Test("the new slot must be offered now: on the grid, in hours, not past, within the horizon")
    func notOffered() async throws {
        let booking = try await book()
        for start in ["2027-03-01T10:10:00Z", "2027-03-01T07:00:00Z", "2027-02-28T10:00:00Z", "2027-03-09T10:00:00Z"] {
            #expect(
                await rescheduleError(booking.appointment.id, to: try slot(start))?.code == .slotNotOffered, "\(start)")
        }
        #expect(
            await rescheduleError(booking.appointment.id, to: try slot("2027-03-01T11:00:00Z", minutes: 60))?.code
                == .slotNotOffered)
        #expect(await store.record(id: booking.appointment.id)?.appointment == booking.appointment)
    }

    @Test("a move to the slot it holds changes nothing, even once that slot is too soon to book")
    func sameSlot() async throws {
        let booking = try await book()
        clock.advance(by: .seconds(3 * 3600))
        let unchanged = try await service.reschedule(
            id: booking.appointment.id, to: booking.appointment.slot, authorization: .admin)
        #expect(unchanged.appointment == booking.appointment)
        #expect(!unchanged.replayed)
        #expect(try await service.notifications().map(\.kind) == [.booked])
    }

    @Test("a retry with the key replays even after the slot is no longer offered; another target is key reuse")
    func idempotencyKeys() async throws {
        let booking = try await book()
        let target = try slot("2027-03-01T11:00:00Z")
        let first = try await service.reschedule(
            id: booking.appointment.id, to: target, authorization: .admin, idempotencyKey: "move")
        clock.advance(by: .seconds(4 * 3600))
        let retry = try await service.reschedule(
            id: booking.appointment.id, to: target, authorization: .admin, idempotencyKey: "move")
        #expect(retry.replayed)
        #expect(retry.appointment == first.appointment)
        #expect(
            await rescheduleError(booking.appointment.id, to: try slot("2027-03-01T15:00:00Z"), key: "move")?.code
                == .idempotencyKeyReused)
        let error = await rescheduleError(booking.appointment.id, to: target, key: "with space")
        #expect(error?.fieldErrors["idempotencyKey"] != nil)
        #expect(try await service.notifications().map(\.kind) == [.booked, .rescheduled])
    }

    @Test("the database holds only the SHA-256 of a reschedule key")
    func storedKeys() async throws {
        let booking = try await book()
        _ = try await service.reschedule(
            id: booking.appointment.id, to: try slot("2027-03-01T11:00:00Z"), authorization: .admin,
            idempotencyKey: "secret-key")
        #expect(await store.rescheduleRecord(idempotencyKey: "secret-key") == nil)
        let stored = await store.rescheduleRecord(
            idempotencyKey: AppointmentRecord.storedIdempotencyKey(for: "secret-key"))
        #expect(stored?.appointment.id == booking.appointment.id)
    }
}
