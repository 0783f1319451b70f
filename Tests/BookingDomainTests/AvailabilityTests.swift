import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import TestSupport
import Testing

@Suite("availability")
struct AvailabilityTests {
    let clock = ManualWallClock(now: instant("2027-03-01T08:00:00Z"))  // a Monday

    func service(_ schedule: Schedule) -> BookingService {
        BookingService(store: InMemoryStore(), configuration: .init(defaultSchedule: schedule), clock: clock)
    }

    func request(_ start: String, minutes: Int = 30, email: String = "ada@example.com", key: String? = nil)
        -> BookingRequest
    {
        let slotStart = instant(start)
        return BookingRequest(
            slotStart: slotStart, slotEnd: slotStart.addingTimeInterval(Double(minutes) * 60), name: "Ada",
            email: email,
            idempotencyKey: key)
    }

    @Test("the default window runs from now to the horizon: 7 days of 16 slots")
    func defaultWindow() async throws {
        let slots = try await service(.standard(in: zone("UTC"))).availability()
        #expect(slots.count == 7 * 16)
        #expect(iso(slots[0].start) == "2027-03-01T09:00:00Z")
        #expect(slots.allSatisfy { $0.end <= instant("2027-03-08T08:00:00Z") })
    }

    @Test("minimum notice hides slots that start too soon; the horizon hides slots that end too late")
    func noticeAndHorizon() async throws {
        let schedule = try Schedule(timeZone: zone("UTC"), horizon: .seconds(86_400), minimumNotice: .minutes(90))
        let slots = try await service(schedule).availability()
        #expect(iso(slots[0].start) == "2027-03-01T09:30:00Z")
        #expect(iso(slots.last?.start ?? .distantPast) == "2027-03-01T16:30:00Z")
        clock.set(to: instant("2027-03-01T16:00:00Z"))
        let evening = try await service(schedule).availability()
        #expect(iso(evening[0].start) == "2027-03-02T09:00:00Z")
        #expect(iso(evening.last?.end ?? .distantPast) == "2027-03-02T16:00:00Z")
    }

    @Test("a booked slot disappears; with buffers its neighbours disappear too")
    func bookedAndBuffers() async throws {
        let plain = service(.standard(in: zone("UTC")))
        _ = try await plain.book(request("2027-03-01T10:00:00Z"))
        let day = try await plain.availability(
            from: instant("2027-03-01T09:00:00Z"), to: instant("2027-03-01T12:00:00Z"))
        #expect(
            day.map { String(iso($0.start).dropFirst(11).prefix(5)) } == ["09:00", "09:30", "10:30", "11:00", "11:30"])

        let buffered = service(
            try Schedule(timeZone: zone("UTC"), bufferBefore: .minutes(10), bufferAfter: .minutes(15)))
        _ = try await buffered.book(request("2027-03-01T10:00:00Z"))
        let around = try await buffered.availability(
            from: instant("2027-03-01T09:00:00Z"), to: instant("2027-03-01T12:00:00Z"))
        #expect(around.map { String(iso($0.start).dropFirst(11).prefix(5)) } == ["09:00", "11:00", "11:30"])
        let error = await #expect(throws: BookingError.self) {
            try await buffered.book(request("2027-03-01T10:30:00Z"))
        }
        #expect(error?.code == .slotUnavailable)
    }

    @Test("a cancelled slot is offered and can be booked again")
    func cancelledSlotReturns() async throws {
        let service = service(.standard(in: zone("UTC")))
        let first = try await service.book(request("2027-03-01T10:00:00Z"))
        _ = try await service.cancel(id: first.appointment.id, authorization: .admin)
        #expect(
            try await service.availability(from: instant("2027-03-01T10:00:00Z"), to: instant("2027-03-01T10:30:00Z"))
                .count == 1)
        let second = try await service.book(request("2027-03-01T10:00:00Z"))
        #expect(second.appointment.id != first.appointment.id)
    }

    @Test("from after to is invalid input; an empty or past window is empty")
    func windows() async throws {
        let service = service(.standard(in: zone("UTC")))
        let error = await #expect(throws: BookingError.self) {
            try await service.availability(from: instant("2027-03-02T00:00:00Z"), to: instant("2027-03-01T00:00:00Z"))
        }
        #expect(error?.fieldErrors["to"] != nil)
        #expect(
            try await service.availability(from: instant("2026-01-01T00:00:00Z"), to: instant("2026-01-02T00:00:00Z"))
                .isEmpty)
        #expect(
            try await service.availability(from: instant("2027-03-01T10:00:00Z"), to: instant("2027-03-01T10:00:00Z"))
                .isEmpty)
        #expect(
            try await service.availability(to: instant("2026-01-02T00:00:00Z")).isEmpty,
            "a past to without a from is an empty window, not one that ends before its default from")
        #expect(try await service.availability(to: instant("2027-03-01T07:59:00Z")).isEmpty, "a minute ago")
        #expect(try await service.availability(to: instant("2027-03-01T10:00:00Z")).count == 2, "from now")
    }

    @Test("availability sweeps bookings in one pass: thousands of bookings and slots answer exactly")
    func largeSweep() {
        let schedule = Schedule.standard(in: zone("UTC"))
        let now = instant("2027-03-01T00:00:00Z")
        let window = schedule.slots(from: now, to: now.addingTimeInterval(7 * 86_400))
        let booked = window.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
        let free = schedule.availableSlots(
            in: try! TimeSlot(start: now, end: now.addingTimeInterval(7 * 86_400)), now: now,
            occupants: booked.reversed().map { SlotOccupant(slot: $0, occupied: $0) })
        #expect(free.count == window.count - booked.count)
        #expect(Set(free.map(\.slot)).isDisjoint(with: booked))
    }

    @Test(
        "the one-pass sweep answers as each slot against each occupant: long and short ones, seats, limits, any order")
    func sweepMatchesEveryPair() throws {
        var generator = SeededGenerator(seed: 20_261_129)
        let now = instant("2027-03-01T00:00:00Z")
        let end = now.addingTimeInterval(3 * 86_400)
        for _ in 0..<60 {
            let capacity = Int.random(in: 1...3, using: &generator)
            let schedule = try Schedule(
                timeZone: zone("Europe/London"), weeklyHours: Schedule.weeklyHours(parsing: "daily=06:00-22:00"),
                slotLength: .minutes(15), horizon: .seconds(3 * 86_400),
                bufferBefore: .minutes(Int.random(in: 0...30, using: &generator)),
                bufferAfter: .minutes(Int.random(in: 0...30, using: &generator)), capacity: capacity,
                dailyLimit: Bool.random(using: &generator) ? Int.random(in: 1...40, using: &generator) : nil)
            let grid = schedule.slots(from: now, to: end)
            // Occupants of the grid's slots, some held over far longer intervals (a slot length or buffers since
            // changed), so shorter ones end behind them; widened by whole minutes, so edges meet and intervals tie.
            let occupants = (0..<Int.random(in: 0...120, using: &generator)).map { _ in
                let slot = grid[Int.random(in: 0..<grid.count, using: &generator)]
                let widening = Int.random(in: 0...4, using: &generator) == 0 ? 360 : 15
                return SlotOccupant(
                    slot: slot,
                    occupied: slot.widened(
                        before: Double(Int.random(in: 0...widening, using: &generator) * 60),
                        after: Double(Int.random(in: 0...widening, using: &generator) * 60)))
            }.shuffled(using: &generator)
            let window = try TimeSlot(start: now, end: end)
            let expected = grid.compactMap { slot -> AvailableSlot? in
                let rules = schedule.rules(for: slot)
                let full = rules.periodLimits.contains { limit in
                    occupants.filter { limit.period.start <= $0.slot.start && $0.slot.start < limit.period.end }.count
                        >= limit.limit
                }
                let seats = rules.seatsLeft(
                    slot: slot, occupied: schedule.occupiedInterval(of: slot), occupants: occupants)
                return !full && seats > 0 ? AvailableSlot(slot: slot, seatsLeft: seats) : nil
            }
            #expect(schedule.availableSlots(in: window, now: now, occupants: occupants) == expected)
            let sorted = occupants.sorted { $0.occupied.start < $1.occupied.start }
            #expect(schedule.availableSlots(in: window, now: now, occupants: sorted) == expected)
        }
    }
}
