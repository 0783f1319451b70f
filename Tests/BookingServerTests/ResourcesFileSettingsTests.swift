import ArgumentParser
import BookingDomain
import Foundation
import Testing

@testable import BookingServer

@Suite("server settings: the resources file", .cpuBound)
struct ResourcesFileSettingsTests {
    static let example = """
        {"resources": [
          {"id": "dr-lee", "name": "Dr. Lee", "timeZone": "Europe/London",
           "hours": "mon-fri=09:00-12:00,13:00-17:00", "slotMinutes": 20, "bufferBeforeMinutes": 5,
           "bufferAfterMinutes": 10, "minNoticeMinutes": 60, "daysAhead": 30, "reminderMinutes": [60, 1440],
           "capacity": 4, "dailyLimit": 6, "weeklyLimit": 20,
           "overrides": {"2027-12-25": "closed", "2027-12-24": "09:00-12:00", "2027-12-27": "11:00-13:00,14:00-16:00"}},
          {"id": "room-b", "timeZone": "Pacific/Auckland"}
        ]}
        """

    /// Settings from `arguments`, with `--config` naming a file that holds `contents`.
    func settings(
        file contents: String, _ arguments: [String] = [], environment: [String: String] = [:]
    ) throws -> ServerSettings {
        let path = NSTemporaryDirectory() + "resources-\(UUID().uuidString).json"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ServerSettings(
            options: ServerOptions.parse(["--config", path] + arguments), environment: environment)
    }

    @Test(
        "every field of a resource is read, in the file's order, and an entry with only id and zone gets the defaults")
    func fullFile() throws {
        let resources = try settings(file: Self.example).resources
        #expect(resources.map(\.id) == ["dr-lee", "room-b"])
        #expect(resources.map(\.name) == ["Dr. Lee", "room-b"])
        #expect(resources.map(\.timeZoneName) == ["Europe/London", "Pacific/Auckland"])
        let lee = resources[0].schedule
        #expect(lee.timeZone.identifier == "Europe/London")
        #expect(lee.weeklyHours[.monday]?.map(\.description) == ["09:00-12:00", "13:00-17:00"])
        #expect(lee.weeklyHours[.saturday] == nil)
        #expect(lee.slotLength == .minutes(20) && lee.horizon == .seconds(30 * 86_400))
        #expect(lee.bufferBefore == .minutes(5) && lee.bufferAfter == .minutes(10))
        #expect(lee.minimumNotice == .minutes(60))
        #expect(lee.reminderLeads == [.minutes(1440), .minutes(60)], "reminder leads, longest first")
        #expect(lee.capacity == 4 && lee.dailyLimit == 6 && lee.weeklyLimit == 20)
        let overrides = lee.overrides.map { ($0.key.description, $0.value.map(\.description)) }.sorted { $0.0 < $1.0 }
        #expect(overrides.map(\.0) == ["2027-12-24", "2027-12-25", "2027-12-27"])
        #expect(overrides.map(\.1) == [["09:00-12:00"], [], ["11:00-13:00", "14:00-16:00"]])
        let room = resources[1].schedule
        let standard = Schedule.standard(in: TimeZone(identifier: "Pacific/Auckland")!)
        #expect(room == standard, "an entry with only id and timeZone gets the seed's schedule in its zone")
        #expect(room.capacity == 1 && room.dailyLimit == nil && room.weeklyLimit == nil)
    }

    @Test("--hold-minutes applies to every resource, so it goes with --config")
    func holdMinutesWithAFile() throws {
        #expect(try settings(file: Self.example, ["--hold-minutes", "15"]).holdDuration == .minutes(15))
        #expect(
            try settings(file: Self.example, environment: ["BOOKING_HOLD_MINUTES": "2"]).holdDuration == .minutes(2))
    }

    @Test("the example file the README shows loads")
    func exampleFile() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../docs/resources.json"
        ).standardized.path
        let settings = try ServerSettings(options: ServerOptions.parse(["--config", path]), environment: [:])
        #expect(settings.resources.map(\.id) == ["dr-lee", "room-2"])
        #expect(settings.resources[0].schedule.overrides[try LocalDate(parsing: "2027-12-25")] == [])
        #expect(settings.resources[0].schedule.dailyLimit == 12 && settings.resources[1].schedule.capacity == 2)
        #expect(settings.resources[1].schedule.weeklyLimit == 150)
    }

    @Test("BOOKING_CONFIG names the file too, and --config wins over it")
    func environment() throws {
        let path = NSTemporaryDirectory() + "resources-\(UUID().uuidString).json"
        try #"{"resources": [{"id": "only", "timeZone": "UTC"}]}"#.write(
            toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let environmentOnly = try ServerSettings(
            options: ServerOptions.parse([]), environment: ["BOOKING_CONFIG": path])
        #expect(environmentOnly.resources.map(\.id) == ["only"])
        let flagWins = try settings(file: Self.example, environment: ["BOOKING_CONFIG": path])
        #expect(flagWins.resources.map(\.id) == ["dr-lee", "room-b"])
    }

    @Test(
        "a schedule flag or its variable together with --config is refused, naming both",
        arguments: [
            (["--time-zone", "Europe/Paris"], [:], "--time-zone 'Europe/Paris' (or BOOKING_TIME_ZONE)"),
            (["--slot-minutes", "15"], [:], "--slot-minutes '15' (or BOOKING_SLOT_MINUTES)"),
            ([], ["BOOKING_HOURS": "daily=08:00-18:00"], "--hours 'daily=08:00-18:00' (or BOOKING_HOURS)"),
            ([], ["BOOKING_BUFFER_MINUTES": "5"], "--buffer-minutes '5' (or BOOKING_BUFFER_MINUTES)"),
            (["--reminder-minutes", "60"], [:], "--reminder-minutes '60' (or BOOKING_REMINDER_MINUTES)"),
            (["--capacity", "2"], [:], "--capacity '2' (or BOOKING_CAPACITY)"),
            ([], ["BOOKING_DAILY_LIMIT": "4"], "--daily-limit '4' (or BOOKING_DAILY_LIMIT)"),
            (["--weekly-limit", "9"], [:], "--weekly-limit '9' (or BOOKING_WEEKLY_LIMIT)"),
        ] as [([String], [String: String], String)])
    func scheduleFlagsWithAFile(arguments: [String], environment: [String: String], expected: String) {
        let error = #expect(throws: ServerSettings.Invalid.self) {
            try settings(file: Self.example, arguments, environment: environment)
        }
        let line = error?.description ?? ""
        #expect(line.contains(expected) && line.contains("cannot be combined with --config"), "\(line)")
    }

    @Test(
        "a bad file is one line naming the resource, the field and what is accepted",
        arguments: [
            ("{\"resources\": [", "is not valid JSON (Unexpected end of file"),
            (
                "{\"resources\": [{\"id\": \"a\", \"timeZone\": UTC}]}",
                "is not valid JSON (Invalid value around character"
            ),
            ("[]", "must be a JSON object like {\"resources\": [...]}"),
            ("{}", "field \"resources\": must list at least one resource"),
            ("{\"resources\": []}", "field \"resources\": must list at least one resource"),
            ("{\"resources\": {}}", "field \"resources\": must be a list of resources"),
            (
                "{\"resources\": [{\"id\": \"a\", \"timeZone\": \"UTC\"}], \"zone\": 1}",
                "field \"zone\": is not a known field"
            ),
            ("{\"resources\": [\"dr-lee\"]}", "resource #1: must be an object"),
            (entry(#""timeZone": "UTC""#), "resource #1: field \"id\": is required"),
            (entry(#""id": "dr lee", "timeZone": "UTC""#), "resource #1: field \"id\": must be 1-64 letters"),
            (entry(#""id": "..", "timeZone": "UTC""#), "resource \"..\": field \"id\": must be 1-64 letters"),
            (entry(#""id": ".", "timeZone": "UTC""#), "(not dots alone), not \".\""),
            (entry(#""id": 7, "timeZone": "UTC""#), "resource #1: field \"id\": must be 1-64 letters"),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "slotMinute": 30"#),
                "resource \"dr-lee\": field \"slotMinute\": is not a known field (known: id, name, timeZone, hours, slotMinutes"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "Europe/Londn""#),
                "resource \"dr-lee\": field \"timeZone\": must be an IANA zone like Europe/London or UTC, not \"Europe/Londn\""
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "BST""#),
                "resource \"dr-lee\": field \"timeZone\": must be an IANA zone like Europe/London or UTC; BST is an abbreviation, which can mean more than one zone (Foundation reads BST as Bangladesh's): write Europe/London, say, not \"BST\""
            ),
            (entry(#""id": "dr-lee""#), "resource \"dr-lee\": field \"timeZone\": is required"),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "name": " ""#),
                "resource \"dr-lee\": field \"name\": must be text of 1-200"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "hours": "mon=9-5""#),
                "resource \"dr-lee\": field \"hours\": must look like mon-fri=09:00-12:00"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "hours": "mon=09:00-12:00,11:00-13:00""#),
                "resource \"dr-lee\": field \"hours\": intervals on mon overlap"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "slotMinutes": 2"#),
                "resource \"dr-lee\": field \"slotMinutes\": must be a whole number from 5 to 1440, not 2"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "slotMinutes": "30""#),
                "resource \"dr-lee\": field \"slotMinutes\": must be a whole number from 5 to 1440"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "slotMinutes": 30.5"#),
                "resource \"dr-lee\": field \"slotMinutes\": must be a whole number"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "daysAhead": 0"#),
                "resource \"dr-lee\": field \"daysAhead\": must be a whole number from 1 to 366, not 0"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "bufferAfterMinutes": -5"#),
                "resource \"dr-lee\": field \"bufferAfterMinutes\": must be a whole number from 0 to 1440"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "minNoticeMinutes": 999999"#),
                "resource \"dr-lee\": field \"minNoticeMinutes\": must be a whole number from 0 to 527040"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "reminderMinutes": [1440, 0]"#),
                "resource \"dr-lee\": field \"reminderMinutes\": must be a list of at most 20 distinct whole numbers of minutes from 1 to 527040 before the start, like [1440, 60], not [1440, 0]"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "reminderMinutes": [60, 60]"#),
                "resource \"dr-lee\": field \"reminderMinutes\": must be a list of at most 20 distinct whole numbers"
            ),
            (
                entry(
                    #""id": "dr-lee", "timeZone": "UTC", "reminderMinutes": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21]"#
                ),
                "resource \"dr-lee\": field \"reminderMinutes\": must be a list of at most 20 distinct whole numbers"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "reminderMinutes": 60"#),
                "resource \"dr-lee\": field \"reminderMinutes\": must be a list of at most 20 distinct whole numbers"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "capacity": 0"#),
                "resource \"dr-lee\": field \"capacity\": must be a whole number from 1 to 10000, not 0"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "capacity": "3""#),
                "resource \"dr-lee\": field \"capacity\": must be a whole number from 1 to 10000"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "dailyLimit": 0"#),
                "resource \"dr-lee\": field \"dailyLimit\": must be a whole number from 1 to 100000, not 0"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "weeklyLimit": 2.5"#),
                "resource \"dr-lee\": field \"weeklyLimit\": must be a whole number from 1 to 100000"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "weeklyLimit": 100001"#),
                "resource \"dr-lee\": field \"weeklyLimit\": must be a whole number from 1 to 100000, not 100001"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "overrides": ["2027-12-25"]"#),
                "resource \"dr-lee\": field \"overrides\": must be an object of local dates"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "overrides": {"2027-02-30": "closed"}"#),
                "resource \"dr-lee\": field \"overrides\": \"2027-02-30\" is not a date like 2027-12-25"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "overrides": {"2027-12-24": "9-12"}"#),
                "resource \"dr-lee\": field \"overrides.2027-12-24\": must be \"closed\" or that day's hours"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "overrides": {"2027-12-24": ""}"#),
                "resource \"dr-lee\": field \"overrides.2027-12-24\": must be \"closed\" or that day's hours"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "overrides": {"2027-12-24": "09:00-12:00,11:00-13:00"}"#),
                "resource \"dr-lee\": field \"overrides\": intervals on 2027-12-24 overlap"
            ),
            (entry(#""id": "dr-lee", "timeZone": "UTC", "hours": " ; ""#), "field \"hours\": must look like"),
            (
                entry(
                    #""id": "dr-lee", "timeZone": "UTC", "daysAhead": 1, "slotMinutes": 60, "minNoticeMinutes": 1381"#),
                "resource \"dr-lee\": field \"minNoticeMinutes\": at most daysAhead less one slot (1380 minutes here)"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "slot\nMinutes": 30"#),
                "field \"slot\\nMinutes\": is not a known field"
            ),
            (
                entry(
                    #""id": "dr-lee", "timeZone": "UTC", "overrides": {"2027-12-24": "closed", "2027-12-24": "09:00-12:00"}"#
                ),
                "resource \"dr-lee\": field \"overrides\": names \"2027-12-24\" twice in one object; keep one"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "hours": "daily=closed""#),
                "resource \"dr-lee\": field \"hours\": must look like mon-fri=09:00-12:00,13:00-17:00;sat=10:00-14:00 (no day is open for one slot of 30 minutes: nothing would ever be offered)"
            ),
            (
                entry(#""id": "dr-lee", "timeZone": "UTC", "slotMinutes": 30, "slotMinutes": 60"#),
                "resource \"dr-lee\": field \"slotMinutes\": is given twice; keep one"
            ),
            (
                #"{"resources": [{"id": "dr-lee", "timeZone": "UTC",}]}"#,
                "is not valid JSON by RFC 8259 (a comma before a closing bracket or brace, say)"
            ),
            (
                #"{"resources": [{"id": "dr-lee", "timeZone": "UTC", "capacity": 02}]}"#,
                "is not valid JSON (Number with leading zero around character 64.)"
            ),
            (
                "{\"resources\": [{\"id\": \"dr-lee\", \"timeZone\": \"UTC\"}, {\"id\": \"x\", \"timeZone\": \"UTC\"}, {\"id\": \"dr-lee\", \"timeZone\": \"UTC\"}]}",
                "resource \"dr-lee\": field \"id\": is used by resources #1 and #3; each id must be unique"
            ),
        ])
    func badFile(contents: String, expected: String) {
        let error = #expect(throws: ServerSettings.Invalid.self) { try settings(file: contents) }
        let line = error?.description ?? ""
        #expect(line.hasPrefix("invalid --config '") && line.contains("' (or BOOKING_CONFIG): "), "\(line)")
        #expect(line.contains(expected), "\(line)")
        #expect(!line.contains("\n"), "one line: \(line)")
    }

    @Test("a file that cannot be read is named with the reason")
    func unreadable() throws {
        let missing = NSTemporaryDirectory() + "no-such-resources-\(UUID().uuidString).json"
        let error = #expect(throws: ServerSettings.Invalid.self) {
            try ServerSettings(options: ServerOptions.parse(["--config", missing]), environment: [:])
        }
        #expect(
            error?.description == "invalid --config '\(missing)' (or BOOKING_CONFIG): cannot be read (no such file)")
        let directory = #expect(throws: ServerSettings.Invalid.self) {
            try ServerSettings(options: ServerOptions.parse(["--config", NSTemporaryDirectory()]), environment: [:])
        }
        #expect(directory?.description.hasSuffix("cannot be read (it is a directory)") == true)
        // A device that never ends stops the start at once, its first 8 MiB read.
        let endless = #expect(throws: ServerSettings.Invalid.self) {
            try ServerSettings(options: ServerOptions.parse(["--config", "/dev/zero"]), environment: [:])
        }
        #expect(endless?.description == "invalid --config '/dev/zero' (or BOOKING_CONFIG): is larger than 8 MiB")
    }

    @Test("a resource closed every weekday but open on an override date is a schedule: it offers that day")
    func openOnOverridesOnly() throws {
        let read = try settings(
            file: entry(
                #""id": "pop-up", "timeZone": "UTC", "hours": "daily=closed", "overrides": {"2027-12-24": "09:00-12:00"}"#
            ))
        let schedule = try #require(read.resources.first?.schedule)
        #expect(schedule.weeklyHours.isEmpty || schedule.weeklyHours.values.allSatisfy(\.isEmpty))
        #expect(schedule.overrides.count == 1)
    }

    @Test("a file with a UTF-8 byte-order mark, or in UTF-16, is read as JSON readers read it")
    func encodings() throws {
        let text = #"{"resources": [{"id": "dr-lee", "timeZone": "Europe/London"}]}"#
        for data in [Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8), try #require(text.data(using: .utf16))] {
            let path = NSTemporaryDirectory() + "resources-\(UUID().uuidString).json"
            try data.write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let read = try ServerSettings(options: ServerOptions.parse(["--config", path]), environment: [:])
            #expect(read.resources.map(\.id) == ["dr-lee"])
        }
    }

    @Test("a pipe is read to its end, as a shell's <(...) or /dev/stdin gives the file")
    func pipe() throws {
        let path = NSTemporaryDirectory() + "resources-pipe-\(UUID().uuidString)"
        #expect(mkfifo(path, 0o600) == 0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = Thread {
            // Opening a pipe for writing waits for its reader: the load below.
            guard let handle = FileHandle(forWritingAtPath: path) else { return }
            handle.write(Data(#"{"resources": [{"id": "dr-lee", "timeZone": "Europe/London"}]}"#.utf8))
            try? handle.close()
        }
        writer.start()
        let read = try ServerSettings(options: ServerOptions.parse(["--config", path]), environment: [:])
        #expect(read.resources.map(\.id) == ["dr-lee"])
    }
}

/// A resources file of one entry whose members are `members`.
private func entry(_ members: String) -> String { "{\"resources\": [{\(members)}]}" }
