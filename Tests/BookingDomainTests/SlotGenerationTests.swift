import BookingDomain
import Foundation
import TestSupport
import Testing

@Suite("slot generation")
struct SlotGenerationTests {
    @Test("New York spring forward: 00:00-05:00 gives 8 slots, the fifth at 03:00 EDT")
    func newYorkSpringForward() throws {
        let result = try slots(of: dailySchedule("America/New_York", "00:00-05:00"), on: "2027-03-14")
        #expect(result.count == 8)
        #expect(iso(result[0].start) == "2027-03-14T05:00:00Z")
        #expect(iso(result[4].start) == "2027-03-14T07:00:00Z")
        #expect(iso(result[7].end) == "2027-03-14T09:00:00Z")
    }

    @Test("New York fall back: 00:00-05:00 gives 12 slots from 04:00Z to 09:30Z")
    func newYorkFallBack() throws {
        let result = try slots(of: dailySchedule("America/New_York", "00:00-05:00"), on: "2027-11-07")
        #expect(result.count == 12)
        #expect(iso(result[0].start) == "2027-11-07T04:00:00Z")
        #expect(iso(result[11].start) == "2027-11-07T09:30:00Z")
    }

    @Test("a local time in the spring-forward gap moves forward by the gap")
    func gapMovesForward() throws {
        let schedule = try dailySchedule("America/New_York", "02:30-04:00")
        let result = try slots(of: schedule, on: "2027-03-14")
        // 02:30 does not exist: it becomes 03:30 EDT (07:30Z); close 04:00 EDT is 08:00Z.
        #expect(result.map { iso($0.start) } == ["2027-03-14T07:30:00Z"])
    }

    @Test("a local time that occurs twice takes the earlier occurrence")
    func ambiguousTakesEarlier() throws {
        let schedule = try dailySchedule("America/New_York", "01:30-02:00")
        let start = schedule.instant(on: try LocalDate(parsing: "2027-11-07"), at: try LocalTime(parsing: "01:30"))
        #expect(iso(start) == "2027-11-07T05:30:00Z")
        // 01:30 EDT to 02:00 EST is 90 real minutes: three slots.
        #expect(try slots(of: schedule, on: "2027-11-07").count == 3)
    }

    @Test("London: 4 slots on the spring day and 8 on the autumn day for 00:00-03:00")
    func london() throws {
        let schedule = try dailySchedule("Europe/London", "00:00-03:00")
        #expect(try slots(of: schedule, on: "2027-03-28").count == 4)
        let autumn = try slots(of: schedule, on: "2027-10-31")
        #expect(autumn.count == 8)
        #expect(iso(autumn[0].start) == "2027-10-30T23:00:00Z")
        #expect(try slots(of: schedule, on: "2027-03-27").count == 6)
    }

    @Test("Lord Howe's 30-minute DST shift")
    func lordHowe() throws {
        let schedule = try dailySchedule("Australia/Lord_Howe", "00:00-04:00")
        let spring = try slots(of: schedule, on: "2027-10-03")
        #expect(spring.count == 7)
        #expect(iso(spring[0].start) == "2027-10-02T13:30:00Z")
        #expect(try slots(of: schedule, on: "2027-04-04").count == 9)
        let gap = try slots(of: dailySchedule("Australia/Lord_Howe", "02:00-03:00"), on: "2027-10-03")
        #expect(gap.map { iso($0.start) } == ["2027-10-02T15:30:00Z"])
    }

    @Test("Kathmandu's +05:45 offset")
    func kathmandu() throws {
        let result = try slots(of: dailySchedule("Asia/Kathmandu", "09:00-10:00"), on: "2027-01-15")
        #expect(result.map { iso($0.start) } == ["2027-01-15T03:15:00Z", "2027-01-15T03:45:00Z"])
    }

    @Test("split hours leave the lunch break out, and a slot that would end after close is dropped")
    func splitHours() throws {
        let schedule = try Schedule(
            timeZone: zone("UTC"), weeklyHours: Schedule.weeklyHours(parsing: "mon-fri=09:00-12:00,13:00-14:50"),
            slotLength: .minutes(30))
        let monday = try slots(of: schedule, on: "2027-03-01")
        #expect(
            monday.map { iso($0.start) }.map { String($0.dropFirst(11).prefix(5)) } == [
                "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "13:00", "13:30", "14:00",
            ])
        #expect(try slots(of: schedule, on: "2027-03-06").isEmpty)  // a Saturday
    }

    @Test("an override closes a date or replaces its hours")
    func overrides() throws {
        let schedule = try Schedule(
            timeZone: zone("UTC"), weeklyHours: Schedule.standardHours,
            overrides: [
                try LocalDate(parsing: "2027-12-25"): [],
                try LocalDate(parsing: "2027-12-24"): [try OpeningInterval(parsing: "09:00-10:00")],
            ])
        #expect(try slots(of: schedule, on: "2027-12-25").isEmpty)
        #expect(try slots(of: schedule, on: "2027-12-24").count == 2)
        #expect(try slots(of: schedule, on: "2027-12-23").count == 16)
    }

    @Test("the standard schedule is the seed's: every day 09:00-17:00, 30 minutes, 7 days")
    func standardSchedule() throws {
        let schedule = Schedule.standard(in: zone("UTC"))
        #expect(schedule.slotLength == .minutes(30))
        #expect(schedule.horizon == .seconds(7 * 86_400))
        #expect(try slots(of: schedule, on: "2027-03-07").count == 16)
    }

    @Test("weekly hours parse ranges, wrap-around ranges, daily and closed")
    func parsing() throws {
        let hours = try Schedule.weeklyHours(parsing: "mon-fri=09:00-12:00,13:00-17:00; sat=10:00-14:00; sun=closed")
        #expect(hours[.monday]?.map(\.description) == ["09:00-12:00", "13:00-17:00"])
        #expect(hours[.saturday]?.map(\.description) == ["10:00-14:00"])
        #expect(hours[.sunday] == [])
        #expect(
            try Schedule.weeklyHours(parsing: "fri-mon=08:00-09:00").keys.sorted() == [
                .monday, .friday, .saturday, .sunday,
            ])
    }

    @Test(
        "bad schedules are refused with the field named",
        arguments: [
            "mon=09:00", "mon=17:00-09:00", "funday=09:00-10:00", "mon=09:00-12:00,11:00-13:00", "mon=25:00-26:00",
            "mon 09:00-10:00",
        ])
    func badHours(_ text: String) throws {
        let error = #expect(throws: BookingError.self) {
            _ = try Schedule(timeZone: zone("UTC"), weeklyHours: Schedule.weeklyHours(parsing: text))
        }
        #expect(error?.code == .invalidInput)
        #expect(error?.fieldErrors["hours"] != nil)
    }

    @Test("durations must be whole minutes in range")
    func badDurations() {
        let error = #expect(throws: BookingError.self) {
            _ = try Schedule(
                timeZone: zone("UTC"), slotLength: .seconds(90), horizon: .zero, bufferBefore: .minutes(-5))
        }
        #expect(Set(error?.fieldErrors.keys ?? [:].keys) == ["slotLength", "horizon", "bufferBefore"])
    }

    @Test("slots are sorted, disjoint, of the slot length, and inside the hours, for many random schedules")
    func randomSchedules() throws {
        var generator = SeededGenerator(seed: 20_271_107)
        let zones = [
            "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns",
            "Pacific/Chatham",
        ]
        for _ in 0..<300 {
            let zoneID = zones.randomElement(using: &generator) ?? "UTC"
            var intervals: [OpeningInterval] = []
            var cursor = Int.random(in: 0...600, using: &generator)
            while cursor < 1380 && intervals.count < 3 {
                let close = min(1440, cursor + Int.random(in: 15...300, using: &generator))
                intervals.append(
                    try OpeningInterval(
                        open: LocalTime(hour: cursor / 60, minute: cursor % 60),
                        close: LocalTime(hour: close / 60, minute: close % 60)))
                cursor = close + Int.random(in: 0...120, using: &generator)
            }
            let length = [5, 15, 20, 30, 45, 60, 90].randomElement(using: &generator) ?? 30
            let schedule = try Schedule(
                timeZone: zone(zoneID), weeklyHours: Schedule.everyDay(intervals), slotLength: .minutes(length))
            let from = instant("2027-01-01T00:00:00Z").addingTimeInterval(
                Double(Int.random(in: 0...365, using: &generator)) * 86_400)
            let to = from.addingTimeInterval(Double(Int.random(in: 1...10, using: &generator)) * 86_400)
            let result = schedule.slots(from: from, to: to)
            #expect(
                zip(result, result.dropFirst()).allSatisfy { $0.end <= $1.start }, "sorted and disjoint in \(zoneID)")
            #expect(result.allSatisfy { $0.duration == Double(length * 60) && $0.start >= from && $0.end <= to })
            for slot in result {
                let date = schedule.localDate(of: slot.start)
                let inside = [date, date.adding(days: -1)].contains { day in
                    schedule.openingIntervals(on: day).contains { interval in
                        slot.start >= schedule.instant(on: day, at: interval.open)
                            && slot.end <= schedule.instant(on: day, at: interval.close)
                    }
                }
                #expect(inside, "slot \(iso(slot.start)) inside the hours of \(zoneID)")
            }
        }
    }

    @Test("a close moved past the next open by a DST gap: the slot list and checkOffered agree, whatever the window")
    func movedCloseOverlapsTheNextInterval() throws {
        // 02:50 does not exist on 2027-03-14 in New York: the first interval closes at 03:50 EDT (07:50Z), past the
        // second's open at 03:00 EDT (07:00Z), and the 20-minute grids of the two do not line up.
        let schedule = try Schedule(
            timeZone: zone("America/New_York"),
            weeklyHours: Schedule.weeklyHours(parsing: "daily=01:10-02:50,03:00-04:00"), slotLength: .minutes(20),
            horizon: .seconds(366 * 86_400))
        let day = try slots(of: schedule, on: "2027-03-14")
        #expect(
            day.map { iso($0.start) } == [
                "2027-03-14T06:10:00Z", "2027-03-14T06:30:00Z", "2027-03-14T06:50:00Z", "2027-03-14T07:10:00Z",
                "2027-03-14T07:30:00Z",
            ], "the earlier interval's slots are kept, the later one's that overlap them dropped")
        let now = instant("2027-03-01T00:00:00Z")
        let wide = Set(schedule.slots(from: instant("2027-03-12T00:00:00Z"), to: instant("2027-03-17T00:00:00Z")))
        var candidate = instant("2027-03-14T05:00:00Z")
        while candidate < instant("2027-03-14T09:00:00Z") {
            let slot = try TimeSlot(start: candidate, end: candidate.addingTimeInterval(1200))
            let offered = (try? schedule.checkOffered(slot, now: now)) != nil
            #expect(offered == wide.contains(slot), "\(iso(candidate)): checkOffered \(offered)")
            #expect(
                schedule.slots(from: candidate, to: instant("2027-03-14T12:00:00Z"))
                    == wide.filter { $0.start >= candidate && $0.end <= instant("2027-03-14T12:00:00Z") }.sorted(),
                "a window from \(iso(candidate)) agrees with the wide one")
            candidate = candidate.addingTimeInterval(300)
        }
    }

    @Test(
        "a year's slots are its days' slots: the offsets one window remembers answer as the zone does",
        arguments: ["Europe/London", "Australia/Lord_Howe", "America/Santiago", "Pacific/Chatham", "Asia/Kathmandu"])
    func yearIsItsDays(_ zoneID: String) throws {
        // 15-minute slots start on quarter hours of UTC in each of these zones, so no slot crosses a UTC midnight.
        let schedule = try Schedule(
            timeZone: zone(zoneID),
            weeklyHours: Schedule.weeklyHours(parsing: "daily=00:00-03:30,09:15-17:45,22:00-24:00"),
            slotLength: .minutes(15))
        let start = instant("2027-01-01T00:00:00Z")
        let days = (0..<366).flatMap { day in
            schedule.slots(
                from: start.addingTimeInterval(Double(day) * 86_400),
                to: start.addingTimeInterval(Double(day + 1) * 86_400))
        }
        let year = schedule.slots(from: start, to: start.addingTimeInterval(366 * 86_400))
        #expect(year.count > 366 * 40)
        #expect(year.count == days.count)
        let difference = zip(year, days).first { $0 != $1 }
        #expect(difference == nil, "the year has \(difference.map { iso($0.0.start) } ?? "") where its day has another")
    }

    @Test(
        "local times read as the zone says, every day of 2027, where clocks change at midnight, by 30 minutes or twice",
        arguments: [
            "Europe/London", "America/New_York", "America/Santiago", "Asia/Beirut", "Australia/Lord_Howe",
            "Pacific/Chatham", "Asia/Kathmandu",
        ])
    func instantsAsTheZoneSays(_ zoneID: String) throws {
        let timeZone = zone(zoneID)
        let schedule = try dailySchedule(zoneID, "00:00-24:00")
        // The rule read straight from the zone: of the offsets 36 hours before and after, those under which the
        // local time occurs; the earlier of them; else (a gap) the offset before.
        func expected(_ date: LocalDate, _ time: LocalTime) -> Date {
            let wall = Double(date.daysSinceEpoch) * 86_400 + Double(time.minutes) * 60
            let before = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: wall - 129_600))
            let after = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: wall + 129_600))
            let occurring = [before, after].map { Date(timeIntervalSince1970: wall - Double($0)) }.filter {
                Double(timeZone.secondsFromGMT(for: $0)) == wall - $0.timeIntervalSince1970
            }
            return occurring.min() ?? Date(timeIntervalSince1970: wall - Double(before))
        }
        let times = try [
            (0, 0), (0, 30), (1, 0), (1, 30), (2, 0), (2, 30), (3, 0), (12, 0), (23, 0), (23, 30), (24, 0),
        ]
        .map { try LocalTime(hour: $0.0, minute: $0.1) }
        let first = try LocalDate(parsing: "2027-01-01")
        for day in 0..<366 {
            let date = first.adding(days: day)
            for time in times where schedule.instant(on: date, at: time) != expected(date, time) {
                Issue.record("\(date) \(time) in \(zoneID): \(iso(schedule.instant(on: date, at: time)))")
            }
        }
    }

    @Test("a window's slots are those of a wider window that lie inside it, whatever its edges' milliseconds")
    func windowEdges() throws {
        var generator = SeededGenerator(seed: 20_261_130)
        let schedule = try Schedule(
            timeZone: zone("America/Santiago"),
            weeklyHours: Schedule.weeklyHours(parsing: "mon-fri=00:00-02:10,08:05-17:55; sat=22:00-24:00"),
            slotLength: .minutes(25))
        let start = instant("2027-01-01T00:00:00Z")
        let all = schedule.slots(from: start, to: start.addingTimeInterval(366 * 86_400))
        for _ in 0..<300 {
            let from = start.addingTimeInterval(Double(Int.random(in: 0..<360 * 86_400_000, using: &generator)) / 1000)
            let to = from.addingTimeInterval(Double(Int.random(in: 1..<5 * 86_400_000, using: &generator)) / 1000)
            let inside = all.filter { $0.start >= from && $0.end <= to }
            #expect(schedule.slots(from: from, to: to) == inside, "\(iso(from)) to \(iso(to))")
        }
    }

    @Test("local dates convert both ways and know their weekday")
    func localDates() throws {
        let date = try LocalDate(parsing: "2027-03-14")
        #expect(date.description == "2027-03-14")
        #expect(date.weekday == .sunday)
        #expect(try LocalDate(parsing: "1970-01-01").weekday == .thursday)
        #expect(try LocalDate(parsing: "2028-02-29").adding(days: 1).description == "2028-03-01")
        #expect(throws: BookingError.self) { try LocalDate(parsing: "2027-02-29") }
    }
}
