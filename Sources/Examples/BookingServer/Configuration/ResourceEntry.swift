import BookingDomain
import Foundation

/// One resource of the resources file as written: each field decoded with its JSON type checked,
/// then turned into a ``ConfiguredResource`` by ``validated()``.
///
/// Required: `id` and `timeZone`. Defaults: `name` the id, `hours` `daily=09:00-17:00`, `slotMinutes` 30,
/// `bufferBeforeMinutes` and `bufferAfterMinutes` 0, `minNoticeMinutes` 0, `daysAhead` 7, no `overrides`, no
/// `reminderMinutes`, `capacity` 1, no `dailyLimit` or `weeklyLimit`.
/// A `null` counts as absent.
struct ResourceEntry: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, timeZone, hours, slotMinutes, bufferBeforeMinutes, bufferAfterMinutes, minNoticeMinutes
        case daysAhead, overrides, reminderMinutes, capacity, dailyLimit, weeklyLimit
    }

    typealias Problem = ResourcesFile.Problem

    /// The entry's place in the list, from 1: names an entry without a valid id.
    let position: Int
    let id: String?
    let name: String?
    let timeZone: String?
    let hours: String?
    let slotMinutes: Int?
    let bufferBeforeMinutes: Int?
    let bufferAfterMinutes: Int?
    let minNoticeMinutes: Int?
    let daysAhead: Int?
    /// Local dates (`YYYY-MM-DD`) to `closed` or that day's own hours (`09:00-12:00,13:00-17:00`).
    let overrides: [String: String]?
    /// Minutes before each appointment's start that a reminder is due, like `[1440, 60]`.
    let reminderMinutes: [Int]?
    /// Seats per slot, 1-10000.
    let capacity: Int?
    /// At most this many bookings per local day, 1-100000.
    let dailyLimit: Int?
    /// At most this many bookings per ISO week, 1-100000.
    let weeklyLimit: Int?

    /// How problems name the entry: `resource "dr-lee"`, or `resource #2` without a valid id.
    var label: String { Self.label(id: id, position: position) }

    init(from decoder: any Decoder) throws {
        position = (decoder.codingPath.last?.intValue ?? 0) + 1
        let anyKeys: KeyedDecodingContainer<ResourcesFile.AnyKey>
        do {
            anyKeys = try decoder.container(keyedBy: ResourcesFile.AnyKey.self)
        } catch {
            throw Problem(
                resource: "resource #\(position)", field: nil,
                accepted: "must be an object like {\"id\": \"dr-lee\", \"timeZone\": \"Europe/London\"}")
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let label = Self.label(id: try? container.decodeIfPresent(String.self, forKey: .id), position: position)
        try Self.refuseUnknownKeys(in: anyKeys, accepted: CodingKeys.allCases.map(\.rawValue), resource: label)
        func field<Value: Decodable>(_ key: CodingKeys) throws -> Value? {
            do {
                return try container.decodeIfPresent(Value.self, forKey: key)
            } catch {
                throw Problem(resource: label, field: key.rawValue, accepted: Self.accepted(key))
            }
        }
        id = try field(.id)
        name = try field(.name)
        timeZone = try field(.timeZone)
        hours = try field(.hours)
        slotMinutes = try field(.slotMinutes)
        bufferBeforeMinutes = try field(.bufferBeforeMinutes)
        bufferAfterMinutes = try field(.bufferAfterMinutes)
        minNoticeMinutes = try field(.minNoticeMinutes)
        daysAhead = try field(.daysAhead)
        overrides = try field(.overrides)
        reminderMinutes = try field(.reminderMinutes)
        capacity = try field(.capacity)
        dailyLimit = try field(.dailyLimit)
        weeklyLimit = try field(.weeklyLimit)
    }

    /// The resource this entry describes, or the first problem with it.
    func validated() throws(Problem) -> ConfiguredResource {
        func problem(_ key: CodingKeys, _ accepted: String) -> Problem {
            Problem(resource: label, field: key.rawValue, accepted: accepted)
        }
        func number(_ value: Int?, _ key: CodingKeys, _ limits: NumberSetting) throws(Problem) -> Int {
            let number = value ?? limits.fallback
            guard limits.range.contains(number) else { throw problem(key, "\(limits.accepted), not \(number)") }
            return number
        }
        guard let id else { throw problem(.id, "is required and " + Self.accepted(.id)) }
        // Dots alone are an id to the library, but steps of a path to a URL: the host's routes could not reach it.
        guard let resourceID = ResourceID(rawValue: id), !id.allSatisfy({ $0 == "." }) else {
            throw problem(.id, "\(Self.accepted(.id)), not \(id.debugDescription)")
        }
        let displayName = (name ?? id).trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(displayName.count),
            !displayName.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw problem(.name, Self.accepted(.name)) }
        guard let timeZone else { throw problem(.timeZone, "is required and " + ScheduleLimits.acceptedTimeZone) }
        guard let zone = ScheduleLimits.timeZone(named: timeZone) else {
            throw problem(
                .timeZone, "\(ScheduleLimits.acceptedTimeZone(refusing: timeZone)), not \(timeZone.debugDescription)")
        }
        let weeklyHours: [Weekday: [OpeningInterval]]
        if let hours, hours.allSatisfy({ $0.isWhitespace || $0 == ";" }) {
            // Closed every day is not a schedule: say so rather than offer nothing.
            throw problem(.hours, ScheduleLimits.acceptedHours("it names no day"))
        }
        do {
            weeklyHours = try Schedule.weeklyHours(parsing: hours ?? ScheduleLimits.hours)
        } catch {
            throw problem(.hours, ScheduleLimits.acceptedHours(error.fieldErrors["hours"] ?? error.message))
        }
        let overrides = try validatedOverrides()
        let slotMinutes = try number(self.slotMinutes, .slotMinutes, ScheduleLimits.slotMinutes)
        // Closed every day and on every override date, or open too briefly for one slot: nothing would be offered.
        guard
            ScheduleLimits.holdsASlot(
                Array(weeklyHours.values.joined()) + overrides.values.joined(), slotMinutes: slotMinutes)
        else { throw problem(.hours, ScheduleLimits.holdsNoSlot(slotMinutes)) }
        let daysAhead = try number(self.daysAhead, .daysAhead, ScheduleLimits.daysAhead)
        let notice = try number(minNoticeMinutes, .minNoticeMinutes, ScheduleLimits.minNoticeMinutes)
        let before = try number(bufferBeforeMinutes, .bufferBeforeMinutes, ScheduleLimits.bufferMinutes)
        let after = try number(bufferAfterMinutes, .bufferAfterMinutes, ScheduleLimits.bufferMinutes)
        guard let reminderLeads = ScheduleLimits.reminderLeads(minutes: reminderMinutes ?? []) else {
            throw problem(.reminderMinutes, "\(Self.accepted(.reminderMinutes)), not \(reminderMinutes ?? [])")
        }
        let capacity = try number(self.capacity, .capacity, ScheduleLimits.capacity)
        let dailyLimit = try self.dailyLimit.map { limit throws(Problem) in
            try number(limit, .dailyLimit, ScheduleLimits.periodLimit)
        }
        let weeklyLimit = try self.weeklyLimit.map { limit throws(Problem) in
            try number(limit, .weeklyLimit, ScheduleLimits.periodLimit)
        }
        do {
            let schedule = try Schedule(
                timeZone: zone, weeklyHours: weeklyHours, overrides: overrides, slotLength: .minutes(slotMinutes),
                horizon: .seconds(daysAhead * 86_400), minimumNotice: .minutes(notice),
                bufferBefore: .minutes(before), bufferAfter: .minutes(after), reminderLeads: reminderLeads,
                capacity: capacity, dailyLimit: dailyLimit, weeklyLimit: weeklyLimit)
            return ConfiguredResource(id: resourceID, name: displayName, schedule: schedule, timeZoneName: timeZone)
        } catch {
            // Only overlapping intervals and a notice that leaves no slot are left to refuse: the numbers are in range.
            if error.fieldErrors["minimumNotice"] != nil {
                throw Problem(
                    resource: label, field: CodingKeys.minNoticeMinutes.rawValue,
                    accepted: "at most daysAhead less one slot (\(daysAhead * 1440 - slotMinutes) minutes here), "
                        + "or no slot is ever offered, not \(notice)")
            }
            let (field, detail) = error.fieldErrors.min { $0.key < $1.key } ?? ("hours", error.message)
            throw Problem(resource: label, field: field, accepted: detail)
        }
    }

    /// Each override's date and hours, parsed.
    private func validatedOverrides() throws(Problem) -> [LocalDate: [OpeningInterval]] {
        var result: [LocalDate: [OpeningInterval]] = [:]
        for (text, hours) in (overrides ?? [:]).sorted(by: { $0.key < $1.key }) {
            let field = "\(CodingKeys.overrides.rawValue).\(text)"
            guard let date = try? LocalDate(parsing: text) else {
                throw Problem(
                    resource: label, field: CodingKeys.overrides.rawValue,
                    accepted: "\(text.debugDescription) is not a date like 2027-12-25")
            }
            guard !hours.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw Problem(resource: label, field: field, accepted: Self.acceptedOverride)
            }
            do {
                result[date] = try Schedule.openingIntervals(parsing: hours)
            } catch {
                throw Problem(
                    resource: label, field: field,
                    accepted: "\(Self.acceptedOverride) (\(error.fieldErrors["hours"] ?? error.message))")
            }
        }
        return result
    }

    private static let acceptedOverride = "must be \"closed\" or that day's hours like 09:00-12:00,13:00-17:00"

    /// What a field accepts, for a value of the wrong JSON type or out of range.
    private static func accepted(_ key: CodingKeys) -> String {
        switch key {
        case .id: "must be 1-64 letters, digits, '-', '_' or '.' (not dots alone)"
        case .name: "must be text of 1-200 characters without control characters"
        case .timeZone: ScheduleLimits.acceptedTimeZone
        case .hours: "must be a string like mon-fri=09:00-12:00,13:00-17:00;sat=10:00-14:00"
        case .slotMinutes: ScheduleLimits.slotMinutes.accepted
        case .bufferBeforeMinutes, .bufferAfterMinutes: ScheduleLimits.bufferMinutes.accepted
        case .minNoticeMinutes: ScheduleLimits.minNoticeMinutes.accepted
        case .daysAhead: ScheduleLimits.daysAhead.accepted
        case .capacity: ScheduleLimits.capacity.accepted
        case .dailyLimit, .weeklyLimit: ScheduleLimits.periodLimit.accepted
        case .reminderMinutes:
            "must be a list of at most 20 distinct whole numbers of minutes from 1 to 527040 before the start, like [1440, 60]"
        case .overrides:
            "must be an object of local dates to \"closed\" or hours, like {\"2027-12-25\": \"closed\", \"2027-12-24\": \"09:00-12:00\"}"
        }
    }

    private static func label(id: String?, position: Int) -> String {
        id.flatMap(ResourceID.init(rawValue:)).map { "resource \"\($0)\"" } ?? "resource #\(position)"
    }

    /// Refuses the first key of `container` not in `accepted`, listing what is.
    static func refuseUnknownKeys(
        in container: KeyedDecodingContainer<ResourcesFile.AnyKey>, accepted: [String], resource: String?
    ) throws(Problem) {
        guard let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !accepted.contains($0) })
        else { return }
        throw Problem(
            resource: resource, field: unknown,
            accepted: "is not a known field (known: \(accepted.joined(separator: ", ")))")
    }
}
