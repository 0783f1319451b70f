import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Testing

@Suite("booking service: capacity, limits and holds")
struct CapacityServiceTests {
    let clock = ManualWallClock(now: instant("2027-03-22T06:00:00Z"))
    let store = InMemoryStore()

    func service(_ schedule: Schedule, holdMinutes: Int = 5) -> BookingService {
        BookingService(
            store: store,
            configuration: .init(defaultSchedule: schedule, holdDuration: .seconds(holdMinutes * 60)),
            clock: clock)
    }

    func request(_ slot: TimeSlot, _ email: String = "ada@example.com", holdToken: String? = nil) -> BookingRequest {
        BookingRequest(
            slotStart: slot.start, slotEnd: slot.end, name: "Ada Lovelace", email: email, holdToken: holdToken)
    }

    func error(_ body: () async throws -> Void) async -> BookingError? {
        do {
            try await body()
            return nil
        } catch {
            return error as? BookingError
        }
    }

    @Test("seats count down with bookings and holds; a full slot leaves availability; one email once per slot")
    func seats() async throws {
        let schedule = try Schedule(timeZone: zone("UTC"), capacity: 3)
        let service = service(schedule)
        let first = try #require(try await service.availability().first)
        #expect(first.seatsLeft == 3)
        _ = try await service.book(request(first.slot))
        #expect(try await service.availability().first == AvailableSlot(slot: first.slot, seatsLeft: 2))
        let hold = try await service.hold(HoldRequest(slotStart: first.start, slotEnd: first.end))
        #expect(try await service.availability().first == AvailableSlot(slot: first.slot, seatsLeft: 1))
        #expect(
            await error { _ = try await service.book(request(first.slot, "ADA@example.com")) }?.code == .alreadyBooked)
        _ = try await service.book(request(first.slot, "grace@example.com"))
        #expect(try await service.availability().first?.slot != first.slot)
        let held = await error { _ = try await service.book(request(first.slot, "alan@example.com")) }
        #expect(held?.code == .slotHeld)
        #expect(held?.availableAt == hold.hold.expiresAt)
        _ = try await service.book(request(first.slot, "alan@example.com", holdToken: hold.token))
        #expect(try await service.appointments().count == 3)
    }

    @Test("a daily limit counts the local day, 23 hours long on London's spring change; its slots leave availability")
    func dailyLimitOnAShortDay() async throws {
        let schedule = try Schedule(
            timeZone: zone("Europe/London"), weeklyHours: Schedule.weeklyHours(parsing: "daily=00:00-04:00"),
            horizon: .seconds(14 * 86_400), dailyLimit: 2)
        let service = service(schedule)
        let changeDay = try slots(of: schedule, on: "2027-03-28")
        #expect(changeDay.count == 6)  // 01:00-02:00 does not exist that night
        _ = try await service.book(request(changeDay[0]))
        _ = try await service.book(request(changeDay[5], "grace@example.com"))
        let refused = await error { _ = try await service.book(request(changeDay[2], "alan@example.com")) }
        #expect(refused?.code == .bookingLimitReached)
        let free = try await service.availability().map(\.slot)
        #expect(Set(free).isDisjoint(with: changeDay))
        #expect(free.contains(try slots(of: schedule, on: "2027-03-27").last!))
        #expect(free.contains(try slots(of: schedule, on: "2027-03-29").first!))
        let cancelled = try #require(try await service.appointments().first)
        _ = try await service.cancel(id: cancelled.id, authorization: .admin)
        #expect(try await service.availability().map(\.slot).contains(changeDay[2]))
    }

    @Test("a weekly limit counts Monday to Sunday in the resource's zone")
    func weeklyLimit() async throws {
        let schedule = try Schedule(
            timeZone: zone("Pacific/Auckland"), weeklyHours: Schedule.weeklyHours(parsing: "daily=09:00-10:00"),
            horizon: .seconds(21 * 86_400), weeklyLimit: 1)
        let service = service(schedule)
        let sunday = try slots(of: schedule, on: "2027-03-28")
        _ = try await service.book(request(sunday[0]))
        let free = try await service.availability().map(\.slot)
        #expect(!free.contains(try slots(of: schedule, on: "2027-03-23")[0]))
        #expect(!free.contains(sunday[1]))
        #expect(free.contains(try slots(of: schedule, on: "2027-03-29")[0]))
        let refused = await error { _ = try await service.book(request(try slots(of: schedule, on: "2027-03-24")[0])) }
        #expect(refused?.code == .bookingLimitReached)
    }

    @Test("a hold lapses at its expiry to the millisecond by the service's clock; its token then books nothing")
    func holdLapses() async throws {
        let service = service(.standard(in: zone("UTC")), holdMinutes: 2)
        let slot = try #require(try await service.availability().first).slot
        let hold = try await service.hold(HoldRequest(slotStart: slot.start, slotEnd: slot.end))
        #expect(hold.hold.expiresAt == clock.now().addingTimeInterval(120))
        #expect(try await service.availability().first?.slot != slot)
        clock.set(to: hold.hold.expiresAt.addingTimeInterval(-0.001))
        #expect(await error { _ = try await service.book(request(slot, "b@example.com")) }?.code == .slotHeld)
        clock.set(to: hold.hold.expiresAt)
        #expect(try await service.availability().first?.slot == slot)
        #expect(await error { _ = try await service.book(request(slot, holdToken: hold.token)) }?.code == .holdExpired)
        _ = try await service.book(request(slot, "b@example.com"))
    }

    @Test("holds are refused like bookings and released once; bad tokens are invalid input")
    func holdRefusalsAndRelease() async throws {
        let service = service(.standard(in: zone("UTC")))
        let slots = try await service.availability().map(\.slot)
        let offGrid = await error {
            _ = try await service.hold(
                HoldRequest(
                    slotStart: slots[0].start.addingTimeInterval(60), slotEnd: slots[0].end.addingTimeInterval(60)))
        }
        #expect(offGrid?.code == .slotNotOffered)
        #expect(
            await error { _ = try await service.hold(HoldRequest(slotStart: slots[0].end, slotEnd: slots[0].start)) }?
                .code == .invalidInput)
        _ = try await service.book(request(slots[0]))
        #expect(
            await error { _ = try await service.hold(HoldRequest(slotStart: slots[0].start, slotEnd: slots[0].end)) }?
                .code == .slotUnavailable)
        let hold = try await service.hold(HoldRequest(slotStart: slots[1].start, slotEnd: slots[1].end))
        try await service.releaseHold(token: hold.token)
        #expect(await error { try await service.releaseHold(token: hold.token) }?.code == .notFound)
        #expect(await error { try await service.releaseHold(token: "") }?.code == .invalidInput)
        #expect(await error { try await service.releaseHold(token: "has space") }?.code == .invalidInput)
        #expect(
            await error { _ = try await service.book(request(slots[1], holdToken: "bad token")) }?.fieldErrors[
                "holdToken"] != nil)
        _ = try await service.book(request(slots[1]))
    }

    @Test("Retry-After's moment: the hold whose lapse frees a seat, and every hold of an overlapping slot")
    func availableAt() throws {
        let slot = try TimeSlot(start: instant("2027-03-22T10:00:00Z"), end: instant("2027-03-22T10:30:00Z"))
        let t = (1...3).map { instant("2027-03-22T09:0\($0):00Z") }
        let seats = (0..<3).map { SlotOccupant(slot: slot, occupied: slot, holdExpiresAt: t[2 - $0]) }
        let booked = SlotOccupant(slot: slot, occupied: slot)
        let rules = BookingRules(capacity: 3)
        let refusal = rules.refusal(
            slot: slot, occupied: slot, occupants: [booked] + seats, periodCounts: [], emailTaken: false)
        #expect(refusal?.code == .slotHeld)
        #expect(refusal?.availableAt == t[1])  // one booked + three held of three seats: the second lapse frees one
        let neighbour = try TimeSlot(start: instant("2027-03-22T09:45:00Z"), end: instant("2027-03-22T10:15:00Z"))
        let blocking = SlotOccupant(
            slot: neighbour, occupied: neighbour, holdExpiresAt: instant("2027-03-22T09:30:00Z"))
        #expect(
            rules.refusal(slot: slot, occupied: slot, occupants: [blocking], periodCounts: [], emailTaken: false)?
                .availableAt == instant("2027-03-22T09:30:00Z"))
        #expect(
            rules.refusal(
                slot: slot, occupied: slot, occupants: [booked, blocking], periodCounts: [], emailTaken: true)?
                .code == .alreadyBooked)
        #expect(
            rules.refusal(slot: slot, occupied: slot, occupants: [booked], periodCounts: [], emailTaken: false) == nil)
        let day = try TimeSlot(start: instant("2027-03-22T00:00:00Z"), end: instant("2027-03-23T00:00:00Z"))
        let limited = BookingRules(capacity: 1, periodLimits: [PeriodLimit(kind: .day, period: day, limit: 2)])
        let heldDay = limited.refusal(
            slot: slot, occupied: slot, occupants: [],
            periodCounts: [PeriodCount(booked: 1, holdExpiries: [t[2], t[0]])], emailTaken: false)
        #expect(heldDay?.code == .slotHeld)
        #expect(heldDay?.availableAt == t[2])  // one booked + two held of two places: both holds must lapse
        #expect(
            limited.refusal(
                slot: slot, occupied: slot, occupants: [], periodCounts: [PeriodCount(booked: 2, holdExpiries: [t[0]])],
                emailTaken: false)?.code == .bookingLimitReached)
    }

    @Test("capacity and limits are validated with the field named")
    func validation() {
        func problems(capacity: Int = 1, daily: Int? = nil, weekly: Int? = nil) -> [String: String] {
            do {
                _ = try Schedule(timeZone: zone("UTC"), capacity: capacity, dailyLimit: daily, weeklyLimit: weekly)
                return [:]
            } catch {
                return error.fieldErrors
            }
        }
        #expect(problems(capacity: 0)["capacity"] != nil)
        #expect(problems(capacity: 10_001)["capacity"] != nil)
        #expect(problems(daily: 0)["dailyLimit"] != nil)
        #expect(problems(weekly: 100_001)["weeklyLimit"] != nil)
        #expect(problems(capacity: 10_000, daily: 1, weekly: 100_000).isEmpty)
    }
}
