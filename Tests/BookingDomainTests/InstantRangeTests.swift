import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Testing

/// Instants far outside any calendar (as a host decoding JSON numbers into `Date` may pass them; even Foundation's
/// `Date.description` traps on some, so messages print seconds) are refused with
/// invalid input at every entry point, never a trap in the millisecond arithmetic behind them.
@Suite("instants outside 0001-9999")
struct InstantRangeTests {
    let clock = ManualWallClock(now: instant("2027-03-01T08:00:00Z"))
    let store = InMemoryStore()
    var service: BookingService {
        BookingService(store: store, configuration: .init(defaultSchedule: .standard(in: zone("UTC"))), clock: clock)
    }

    static let extremes: [Date] = [
        Date(timeIntervalSince1970: 1e300), Date(timeIntervalSince1970: -1e300), Date(timeIntervalSince1970: .infinity),
        Date(timeIntervalSince1970: .nan), Date(timeIntervalSince1970: 253_402_300_800.001),  // just past 10000-01-01
        Date(timeIntervalSince1970: -62_135_596_801),  // one second before 0001-01-01
    ]

    @Test("a booking or a hold with such a start or end is invalid input naming the field, and stores nothing")
    func bookingAndHold() async throws {
        let start = instant("2027-03-01T10:00:00Z")
        for extreme in Self.extremes {
            let late = await #expect(throws: BookingError.self) {
                try await service.book(BookingRequest(slotStart: start, slotEnd: extreme, name: "Ada", email: "a@b.co"))
            }
            #expect(
                late?.code == .invalidInput && late?.fieldErrors["slotEnd"] != nil, "\(extreme.timeIntervalSince1970)")
            let early = await #expect(throws: BookingError.self) {
                try await service.book(BookingRequest(slotStart: extreme, slotEnd: start, name: "Ada", email: "a@b.co"))
            }
            #expect(
                early?.code == .invalidInput && early?.fieldErrors["slotStart"] != nil,
                "\(extreme.timeIntervalSince1970)")
            let hold = await #expect(throws: BookingError.self) {
                try await service.hold(HoldRequest(slotStart: start, slotEnd: extreme))
            }
            #expect(
                hold?.code == .invalidInput && hold?.fieldErrors["slotEnd"] != nil, "\(extreme.timeIntervalSince1970)")
        }
        #expect(await store.appointments().isEmpty)
    }

    @Test("the bounds themselves are booked; a slot's decoder refuses an end not after its start, as its initializer")
    func slots() async throws {
        let first = TimeSlot.supportedInstants.lowerBound
        let last = TimeSlot.supportedInstants.upperBound
        #expect(first.iso8601WithMilliseconds == "0001-01-01T00:00:00.000Z")
        #expect(last.iso8601WithMilliseconds == "+010000-01-01T00:00:00.000Z")
        let inverted = Data(#"{"start": 100, "end": 50}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TimeSlot.self, from: inverted) }
        let slot = try TimeSlot(start: first, end: last)
        #expect(try JSONDecoder().decode(TimeSlot.self, from: JSONEncoder().encode(slot)) == slot)
        // At the store, a booking at the very last millisecond of the range is stored.
        let edge = try TimeSlot(start: last.addingTimeInterval(-1800), end: last)
        let stored = try await store.insert(Self.newAppointment(slot: edge, now: clock.now()))
        guard case .created(let record) = stored else { throw BookingError.storeUnavailable() }
        #expect(record.appointment.slot == edge)
    }

    static func newAppointment(
        slot: TimeSlot, now: Date, rules: BookingRules = .single, reminders: [ScheduledReminder] = []
    ) -> NewAppointment {
        var new = NewAppointment(
            resource: .default, slot: slot, occupied: slot, customerName: "Ada", customerEmail: "a@b.co", note: nil,
            cancelTokenHash: String(repeating: "a", count: 64), idempotencyKey: nil, requestFingerprint: "f", now: now)
        new.rules = rules
        new.reminders = reminders
        return new
    }

    @Test("a reschedule to a slot outside the range (widened past it) is invalid input, and the appointment stays")
    func reschedule() async throws {
        let booked = try await service.book(
            BookingRequest(
                slotStart: instant("2027-03-01T10:00:00Z"), slotEnd: instant("2027-03-01T10:30:00Z"), name: "Ada",
                email: "a@b.co"))
        let target = try TimeSlot(start: instant("2027-03-01T11:00:00Z"), end: instant("2027-03-01T11:30:00Z"))
        let error = await #expect(throws: BookingError.self) {
            try await service.reschedule(
                id: booked.appointment.id, to: target.widened(before: 0, after: 1e300), authorization: .admin)
        }
        #expect(error?.code == .invalidInput && error?.fieldErrors["slotEnd"] != nil)
        let stored = try await service.appointment(id: booked.appointment.id, authorization: .admin)
        #expect(stored.slot.start == instant("2027-03-01T10:00:00Z"))
    }

    @Test(
        "at the store's boundary: such a slot, occupied interval, now, reminder or limit period is refused by validate()"
    )
    func storeBoundary() async throws {
        let start = instant("2027-03-01T10:00:00Z")
        let slot = try TimeSlot(start: start, end: start.addingTimeInterval(1800))
        let now = clock.now()
        let far = slot.widened(before: 0, after: 1e300)
        let cases: [(NewAppointment, String)] = [
            (Self.newAppointment(slot: slot, now: Date(timeIntervalSince1970: 1e300)), "now"),
            (Self.newAppointment(slot: far, now: now), "slotEnd"),
            (
                Self.newAppointment(
                    slot: slot, now: now,
                    reminders: [ScheduledReminder(lead: .seconds(3600), dueAt: Date(timeIntervalSince1970: .nan))]),
                "reminders"
            ),
            (
                Self.newAppointment(
                    slot: slot, now: now,
                    rules: BookingRules(capacity: 1, periodLimits: [PeriodLimit(kind: .day, period: far, limit: 1)])),
                "rules"
            ),
        ]
        for (new, field) in cases {
            let error = await #expect(throws: BookingError.self) { try await store.insert(new) }
            #expect(error?.code == .invalidInput && error?.fieldErrors[field] != nil, "\(field)")
            #expect(throws: BookingError.self) { try new.validate() }
        }
        #expect(await store.appointments().isEmpty)
        let hold = NewHold(
            resource: .default, slot: slot, occupied: slot, tokenHash: String(repeating: "b", count: 64),
            expiresAt: Date(timeIntervalSince1970: .infinity), now: now, rules: .single)
        let holdError = #expect(throws: BookingError.self) { try hold.validate() }
        #expect(holdError?.fieldErrors["expiresAt"] != nil)
    }
}
