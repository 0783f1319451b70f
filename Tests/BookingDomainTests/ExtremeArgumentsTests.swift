import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Logging
import Testing

/// The library's pure helpers and configuration at the ends of their types: what a developer may pass from a file,
/// the environment or arithmetic of their own is answered (nearest value, no slots, or a clear error), never a trap
/// in the arithmetic behind it.
@Suite("public entry points at the ends of their types")
struct ExtremeArgumentsTests {
    static let farOff: [Date] = [
        Date(timeIntervalSince1970: .nan), Date(timeIntervalSince1970: .infinity),
        Date(timeIntervalSince1970: -.infinity), Date(timeIntervalSince1970: 1e300),
        Date(timeIntervalSince1970: -1e300),
    ]

    @Test("Duration.minutes saturates: .max and .min are the longest durations of whole seconds, either way")
    func minutes() {
        #expect(Duration.minutes(.max) == .seconds(Int.max))
        #expect(Duration.minutes(.min) == .seconds(Int.min))
        #expect(Duration.minutes(Int.max / 60) == .seconds(Int.max / 60 * 60))
        #expect(Duration.minutes(-3) == .seconds(-180))
    }

    @Test("a local date far out is clamped to 2^40 days either way, and its arithmetic and text never trap")
    func localDates() throws {
        let bound = LocalDate.maximumDaysFromEpoch
        #expect(LocalDate(daysSinceEpoch: .max).daysSinceEpoch == bound)
        #expect(LocalDate(daysSinceEpoch: .min).daysSinceEpoch == -bound)
        #expect(LocalDate(daysSinceEpoch: .max).adding(days: .max).daysSinceEpoch == bound)
        #expect(LocalDate(daysSinceEpoch: .min).adding(days: .min).daysSinceEpoch == -bound)
        #expect(!LocalDate(daysSinceEpoch: .max).description.isEmpty)
        #expect(!LocalDate(daysSinceEpoch: .min).description.isEmpty)
        _ = LocalDate(daysSinceEpoch: .min).weekday
        // Within the bounds nothing changed.
        let date = try LocalDate(parsing: "2027-03-14")
        #expect(
            LocalDate(daysSinceEpoch: date.daysSinceEpoch) == date && date.adding(days: 1).description == "2027-03-15")
    }

    @Test("dates and times are digits only: a sign is not a date or a time")
    func signsRefused() {
        for text in ["2027-+1-05", "+202-03-14", "-202-03-14", "2027-03- 1"] {
            #expect(throws: BookingError.self, "\(text)") { try LocalDate(parsing: text) }
        }
        for text in ["09:+5", "+9:30", "-1:00", " 9:30"] {
            #expect(throws: BookingError.self, "\(text)") { try LocalTime(parsing: text) }
        }
        #expect(throws: BookingError.self) { try Schedule.weeklyHours(parsing: "mon=+9:00-17:00") }
    }

    @Test("a schedule's helpers read an instant out of range as the nearest supported one, or offer nothing")
    func scheduleHelpers() throws {
        let schedule = Schedule.standard(in: zone("Pacific/Kiritimati"))
        let supported = TimeSlot.supportedInstants
        for far in Self.farOff {
            let date = schedule.localDate(of: far)
            #expect(
                date >= schedule.localDate(of: supported.lowerBound)
                    && date <= schedule.localDate(of: supported.upperBound), "\(far.timeIntervalSince1970)")
            // As `now`: nothing is offered, and a slot's check says why rather than passing it.
            let window = try TimeSlot(start: instant("2027-03-01T00:00:00Z"), end: instant("2027-03-08T00:00:00Z"))
            #expect(schedule.bookableWindow(within: window, now: far) == nil)
            #expect(schedule.availableSlots(in: window, now: far, occupants: []).isEmpty)
            let slot = schedule.slots(from: window.start, to: window.end)[0]
            let refused = #expect(throws: BookingError.self) { try schedule.checkOffered(slot, now: far) }
            #expect(refused?.code == .invalidInput && refused?.fieldErrors["now"] != nil)
            _ = schedule.rules(for: slot)
        }
        #expect(schedule.slots(from: Date(timeIntervalSince1970: .nan), to: Date()).isEmpty)
        #expect(schedule.slots(from: Date(), to: Date(timeIntervalSince1970: .nan)).isEmpty)
        #expect(
            schedule.slots(from: Date(timeIntervalSince1970: .infinity), to: .init(timeIntervalSince1970: .infinity))
                .isEmpty)
        // An unbounded end stops at the last supported instant: the slots of the last days of 9999.
        let utc = Schedule.standard(in: zone("UTC"))
        let lastDays = utc.slots(
            from: supported.upperBound.addingTimeInterval(-3 * 86_400), to: Date(timeIntervalSince1970: .infinity))
        #expect(lastDays.count == 48 && lastDays.allSatisfy { $0.end <= supported.upperBound }, "\(lastDays.count)")
        let firstDays = utc.slots(
            from: Date(timeIntervalSince1970: -.infinity), to: supported.lowerBound.addingTimeInterval(3 * 86_400))
        #expect(
            firstDays.count == 48 && firstDays.allSatisfy { $0.start >= supported.lowerBound }, "\(firstDays.count)")
    }

    @Test("a reminder's due time saturates: a lead of forever is never due, one of minus forever always")
    func reminders() {
        let now = instant("2027-03-01T08:00:00Z")
        #expect(ScheduledReminder.due(leads: [.seconds(Int64.max)], before: now, now: now).isEmpty)
        #expect(
            ScheduledReminder.due(leads: [.seconds(Int64.max)], before: Date(timeIntervalSince1970: .nan), now: now)
                .isEmpty)
        let never = ScheduledReminder.due(leads: [.seconds(Int64.min)], before: now, now: now)
        #expect(never.count == 1 && never[0].dueAt > now)
        let hour = ScheduledReminder.due(leads: [.seconds(3600)], before: instant("2027-03-01T10:00:00Z"), now: now)
        #expect(hour == [ScheduledReminder(lead: .seconds(3600), dueAt: instant("2027-03-01T09:00:00Z"))])
    }

    @Test(
        "a duration past what Int64 counts in seconds (a valid Duration) is refused by a schedule, naming the field, or saturates; never a trap"
    )
    func durationsPastInt64Seconds() throws {
        let utc = zone("UTC")
        for endless in [Duration.seconds(1e19), .seconds(Int64.max) + .seconds(1), .seconds(-1e19)] {
            let fields: [(String, () throws -> Schedule)] = [
                ("slotLength", { try Schedule(timeZone: utc, slotLength: endless) }),
                ("horizon", { try Schedule(timeZone: utc, horizon: endless) }),
                ("minimumNotice", { try Schedule(timeZone: utc, minimumNotice: endless) }),
                ("bufferBefore", { try Schedule(timeZone: utc, bufferBefore: endless) }),
                ("bufferAfter", { try Schedule(timeZone: utc, bufferAfter: endless) }),
                ("reminderLeads", { try Schedule(timeZone: utc, reminderLeads: [endless]) }),
            ]
            for (field, make) in fields {
                let error = #expect(throws: BookingError.self, "\(field) \(endless)") { try make() }
                #expect(error?.fieldErrors[field] != nil, "\(field) \(endless): \(String(describing: error))")
            }
        }
        let now = instant("2027-03-01T08:00:00Z")
        #expect(ScheduledReminder.due(leads: [.seconds(1e19)], before: now, now: now).isEmpty)
        #expect(ScheduledReminder.due(leads: [.seconds(-1e19)], before: now, now: now).count == 1)
        let clock = ManualWallClock(now: now)
        clock.advance(by: .seconds(1e19))
        #expect(clock.now().timeIntervalSince(now) > 9e18)
    }

    @Test("booking rules at the ends of Int: no seat left, no limit's excess, never a trap")
    func rulesAtTheEndsOfInt() throws {
        let slot = try TimeSlot(start: instant("2027-03-01T09:00:00Z"), end: instant("2027-03-01T09:30:00Z"))
        let occupant = SlotOccupant(slot: slot, occupied: slot)
        #expect(BookingRules(capacity: .min).seatsLeft(slot: slot, occupied: slot, occupants: [occupant]) == 0)
        #expect(BookingRules(capacity: .max).seatsLeft(slot: slot, occupied: slot, occupants: [occupant]) == .max - 1)
        #expect(PeriodCount(booked: .max, holdExpiries: [slot.end]).total == .max)
        let day = try TimeSlot(start: instant("2027-03-01T00:00:00Z"), end: instant("2027-03-02T00:00:00Z"))
        let rules = BookingRules(capacity: 1, periodLimits: [PeriodLimit(kind: .day, period: day, limit: .max)])
        #expect(
            rules.refusal(
                slot: slot, occupied: slot, occupants: [], periodCounts: [PeriodCount(booked: .min)], emailTaken: false)
                == nil)
        let held = BookingRules(capacity: 1, periodLimits: [PeriodLimit(kind: .day, period: day, limit: 1)])
        #expect(
            held.refusal(
                slot: slot, occupied: slot, occupants: [],
                periodCounts: [PeriodCount(booked: .min, holdExpiries: [slot.end])], emailTaken: false) == nil)
    }

    @Test("a schedule whose notice and one slot exceed its horizon is refused: it could never offer a slot")
    func noticeBeyondHorizon() throws {
        let utc = zone("UTC")
        for (notice, slot, horizon) in [(60 * 24, 30, 60 * 24), (60 * 24 * 8, 30, 60 * 24 * 7), (60, 60, 119)] {
            let error = #expect(throws: BookingError.self, "\(notice) \(slot) \(horizon)") {
                try Schedule(
                    timeZone: utc, slotLength: .minutes(slot), horizon: .minutes(horizon),
                    minimumNotice: .minutes(notice))
            }
            #expect(error?.fieldErrors["minimumNotice"]?.contains("horizon") == true)
        }
        // Exactly enough: one slot fits, and is offered.
        let tight = try Schedule(
            timeZone: utc, weeklyHours: Schedule.everyDay([OpeningInterval(parsing: "00:00-24:00")]),
            slotLength: .minutes(60), horizon: .minutes(120), minimumNotice: .minutes(60))
        let now = instant("2027-03-01T08:00:00Z")
        let window = try TimeSlot(start: now, end: now.addingTimeInterval(86_400))
        #expect(
            tight.availableSlots(in: window, now: now, occupants: []).map(\.start) == [instant("2027-03-01T09:00:00Z")])
    }

    @Test("a day named by two weekly rules takes the last one's hours, as documented")
    func laterRuleWins() throws {
        let hours = try Schedule.weeklyHours(parsing: "daily=09:00-17:00;sun=closed;mon=10:00-11:00")
        #expect(hours[.sunday] == [])
        #expect(hours[.monday] == [try OpeningInterval(parsing: "10:00-11:00")])
        #expect(hours[.tuesday] == [try OpeningInterval(parsing: "09:00-17:00")])
    }

    @Test("availability with a NaN bound is invalid input naming it; an infinite one is clamped to the horizon")
    func availabilityBounds() async throws {
        let clock = ManualWallClock(now: instant("2027-03-01T08:00:00Z"))
        let service = BookingService(
            store: InMemoryStore(), configuration: .init(defaultSchedule: .standard(in: zone("UTC"))), clock: clock)
        let nan = Date(timeIntervalSince1970: .nan)
        let from = await #expect(throws: BookingError.self) { try await service.availability(from: nan) }
        #expect(from?.code == .invalidInput && from?.fieldErrors["from"] != nil)
        let to = await #expect(throws: BookingError.self) { try await service.availability(to: nan) }
        #expect(to?.code == .invalidInput && to?.fieldErrors["to"] != nil)
        let all = try await service.availability()
        #expect(!all.isEmpty)
        #expect(try await service.availability(from: .distantPast, to: Date(timeIntervalSince1970: .infinity)) == all)
    }

    @Test("drain with no passes (0 or fewer) delivers nothing and returns an empty report")
    func drainNoPasses() async throws {
        let store = InMemoryStore()
        let clock = ManualWallClock(now: instant("2027-03-01T08:00:00Z"))
        let service = BookingService(store: store, clock: clock)
        let slot = try #require(try await service.availability().first)
        _ = try await service.book(
            BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada", email: "a@b.co"))
        let sender = RecordingNotificationSender()
        let dispatcher = NotificationDispatcher(
            store: store, sender: sender, clock: clock, logger: Logger(label: "test"))
        for passes in [-1, Int.min, 0] {
            #expect(try await dispatcher.drain(maxPasses: passes).claimed == 0)
        }
        #expect(try await dispatcher.drain(maxPasses: 1).sent == 1)
    }
}
