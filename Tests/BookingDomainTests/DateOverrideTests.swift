import BookingDomain
import Foundation
import Testing

@Suite("date overrides: local dates of the resource's zone")
struct DateOverrideTests {
    @Test(
        "a closed date has no slot from local midnight to local midnight in the resource's zone; the days around it keep theirs",
        arguments: [
            ("Pacific/Auckland", "2027-12-25", "2027-12-24T11:00:00Z", "2027-12-25T11:00:00Z"),
            ("America/Los_Angeles", "2027-12-25", "2027-12-25T08:00:00Z", "2027-12-26T08:00:00Z"),
            // 25-hour days: daylight saving time ends during the closed date.
            ("Pacific/Auckland", "2027-04-04", "2027-04-03T11:00:00Z", "2027-04-04T12:00:00Z"),
            ("America/Los_Angeles", "2027-11-07", "2027-11-07T07:00:00Z", "2027-11-08T08:00:00Z"),
        ])
    func closedDate(zoneID: String, date: String, midnight: String, nextMidnight: String) throws {
        let closed = try LocalDate(parsing: date)
        let hours = try Schedule.weeklyHours(parsing: "daily=00:00-24:00")
        let schedule = try Schedule(
            timeZone: zone(zoneID), weeklyHours: hours, overrides: [closed: []], slotLength: .minutes(60))
        let open = try Schedule(timeZone: zone(zoneID), weeklyHours: hours, slotLength: .minutes(60))
        let (start, end) = (instant(midnight), instant(nextMidnight))
        let from = start.addingTimeInterval(-2 * 86_400)
        let to = end.addingTimeInterval(2 * 86_400)

        let result = schedule.slots(from: from, to: to)
        #expect(result.allSatisfy { $0.end <= start || $0.start >= end }, "no slot inside the closed date")
        #expect(result.contains { $0.end == start }, "the day before is open up to the closed date's midnight")
        #expect(result.contains { $0.start == end }, "the day after opens at the next local midnight")
        #expect(result == open.slots(from: from, to: to).filter { $0.end <= start || $0.start >= end })
        #expect(try slots(of: schedule, on: date).isEmpty)
        #expect(try slots(of: schedule, on: closed.adding(days: -1).description).count == 24)
        #expect(try slots(of: schedule, on: closed.adding(days: 1).description).count == 24)
    }

    @Test(
        "an override's own hours follow the DST rules of weekly hours (London's change days)",
        arguments: [
            // Spring forward at 01:00 GMT: 01:30 does not exist and moves forward to 02:30 BST.
            ("2027-03-28", "00:30-03:00,10:00-11:00", ["00:30", "01:00", "01:30", "09:00", "09:30"]),
            ("2027-03-28", "01:30-03:00", ["01:30"]),
            // Fall back at 02:00 BST: 01:30 occurs twice and takes the earlier occurrence (00:30Z).
            ("2027-10-31", "01:30-03:00", ["00:30", "01:00", "01:30", "02:00", "02:30"]),
            ("2027-10-31", "00:30-01:30", ["23:30", "00:00"]),
        ])
    func overrideHoursOnDSTDays(date: String, hours: String, expectedUTCStarts: [String]) throws {
        let day = try LocalDate(parsing: date)
        let schedule = try Schedule(
            timeZone: zone("Europe/London"), weeklyHours: Schedule.weeklyHours(parsing: "daily=09:00-17:00"),
            overrides: [day: Schedule.openingIntervals(parsing: hours)])
        let result = try slots(of: schedule, on: date)
        #expect(result.map { String(iso($0.start).dropFirst(11).prefix(5)) } == expectedUTCStarts)
        let sameAsWeekly = try Schedule(
            timeZone: zone("Europe/London"), weeklyHours: Schedule.weeklyHours(parsing: "daily=\(hours)"))
        #expect(result == (try slots(of: sameAsWeekly, on: date)), "an override resolves like weekly hours")
        #expect(try slots(of: schedule, on: day.adding(days: 1).description).count == 16, "the next day is weekly")
    }

    @Test("one day's hours parse intervals, closed, and refuse what is not a time")
    func dayHoursParsing() throws {
        #expect(
            try Schedule.openingIntervals(parsing: " 09:00-12:00, 13:00-17:00 ").map(\.description) == [
                "09:00-12:00", "13:00-17:00",
            ])
        #expect(try Schedule.openingIntervals(parsing: "Closed").isEmpty)
        for bad in ["9-5", "09:00", "12:00-09:00", "09:00-25:00"] {
            let error = #expect(throws: BookingError.self) { try Schedule.openingIntervals(parsing: bad) }
            #expect(error?.fieldErrors["hours"] != nil, "\(bad)")
        }
    }
}
