import BookingDomain
import Foundation
import GRDB
import SQLiteStore
import Testing

@Suite("SQLite store: capacity, limits and holds")
struct SQLiteStoreCapacityTests {
    let now = Date(millisecondsSince1970: 1_803_801_600_000)

    func slot(at minutes: Int, length: Int = 30) throws -> TimeSlot {
        let start = now.addingTimeInterval(Double(minutes) * 60)
        return try TimeSlot(start: start, end: start.addingTimeInterval(Double(length) * 60))
    }

    func widened(_ slot: TimeSlot, by minutes: Int) throws -> TimeSlot {
        try TimeSlot(
            start: slot.start.addingTimeInterval(Double(-minutes) * 60),
            end: slot.end.addingTimeInterval(Double(minutes) * 60))
    }

    func booking(
        _ slot: TimeSlot, occupied: TimeSlot? = nil, email: String = "ada@example.com", rules: BookingRules = .single,
        key: String? = nil, hold: String? = nil, resource: ResourceID = .default
    ) -> NewAppointment {
        NewAppointment(
            resource: resource, slot: slot, occupied: occupied ?? slot, customerName: "Ada", customerEmail: email,
            note: nil, cancelTokenHash: String(repeating: "c", count: 64), idempotencyKey: key,
            requestFingerprint: "f", now: now, rules: rules, holdTokenHash: hold)
    }

    func hold(_ slot: TimeSlot, token: String, minutes: Int = 5, rules: BookingRules = .single) -> NewHold {
        NewHold(
            resource: .default, slot: slot, occupied: slot, tokenHash: token,
            expiresAt: now.addingTimeInterval(Double(minutes) * 60), now: now, rules: rules)
    }

    /// A distinct 64-hex-digit token hash.
    func token(_ number: Int) -> String {
        let digits = String(number, radix: 16)
        return String(repeating: "0", count: 64 - digits.count) + digits
    }

    /// Two stores, each with its own connections, on the file at `path`, waiting as long as racing writes need
    /// (``racingConfiguration``).
    func twoStores(on path: String) throws -> [SQLiteStore] {
        try (0..<2).map { _ in try SQLiteStore(location: .file(path), configuration: racingConfiguration) }
    }

    /// Runs `attempts` at once, alternating between `stores`, and returns each one's error code (`nil` for success).
    func race(
        _ stores: [SQLiteStore], _ attempts: Int,
        _ attempt: @escaping @Sendable (SQLiteStore, Int) async throws -> Void
    ) async -> [BookingError.Code?] {
        await withTaskGroup(of: BookingError.Code?.self) { group in
            for index in 0..<attempts {
                let store = stores[index % stores.count]
                group.addTask {
                    do {
                        try await attempt(store, index)
                        return nil
                    } catch let error as BookingError {
                        return error.code
                    } catch {
                        Issue.record(error)
                        return nil
                    }
                }
            }
            return await group.reduce(into: [BookingError.Code?]()) { $0.append($1) }
        }
    }

    func rawInsert(
        _ queue: DatabaseQueue, slot: (Int64, Int64), occupied: (Int64, Int64), id: Int64? = nil
    ) throws {
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO appointments (id, resource, slot_start, slot_end, occupied_start, occupied_end,
                        customer_name, customer_email, status, cancel_token_hash, request_fingerprint, created_at,
                        updated_at)
                    VALUES (?, 'default', ?, ?, ?, ?, 'Eve', 'eve@example.com', 'booked', 'x', 'y', 0, 0)
                    """,
                arguments: [id, slot.0, slot.1, occupied.0, occupied.1])
        }
    }

    @Test("a database made by schema v5 upgrades to capacity and holds without loss")
    func upgradeFromV5() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("v5.sqlite")
        let fixture = try #require(
            Bundle.module.url(forResource: "schema-v5", withExtension: "sql", subdirectory: "Fixtures"))
        let queue = try DatabaseQueue(path: path)
        let script = try String(contentsOf: fixture, encoding: .utf8)
        try await queue.writeWithoutTransaction { db in try db.execute(sql: script) }
        try queue.close()

        let store = try SQLiteStore(location: .file(path))
        #expect(try await store.appliedMigrations().last == "v6-capacity-and-holds")
        #expect(try await store.appliedMigrations().count == 6)
        let appointments = try await store.appointments()
        #expect(appointments.map(\.id) == [1, 4, 2, 3])
        #expect(appointments.map(\.status) == [.booked, .booked, .cancelled, .booked])
        #expect(appointments.map(\.sequence) == [0, 0, 1, 1])
        let ada = appointments[0]
        #expect(ada.occupied == (try widened(ada.slot, by: 10)))
        let keyed = try await store.record(idempotencyKey: AppointmentRecord.storedIdempotencyKey(for: "v5-key"))
        #expect(keyed?.sealedCancelToken == "sealed-v5")
        #expect(
            try await store.rescheduleRecord(idempotencyKey: String(repeating: "e", count: 64))?.appointment.id == 3)
        let notifications = try await store.notifications(appointmentID: nil)
        #expect(notifications.map(\.id) == Array(1...9))
        #expect(
            notifications.map(\.kind) == [
                .booked, .reminder, .booked, .cancelled, .booked, .reminder, .rescheduled, .reminder, .booked,
            ])
        #expect(
            notifications.map(\.status) == [
                .sent, .pending, .sent, .pending, .sent, .obsolete, .pending, .pending, .failed,
            ])
        #expect(notifications[6].previousSlot == (try slot(at: 240)))

        // The upgraded file takes seats: a second seat of Ada's slot, with Ada's buffers.
        let seats = BookingRules(capacity: 2)
        let second = try await store.insert(
            booking(ada.slot, occupied: ada.occupied, email: "bob@example.com", rules: seats))
        #expect(second.record.appointment.id == 5)
        let full = await #expect(throws: BookingError.self) {
            try await store.insert(booking(ada.slot, occupied: ada.occupied, email: "eve@example.com", rules: seats))
        }
        #expect(full?.code == .slotUnavailable)
        let again = await #expect(throws: BookingError.self) {
            try await store.insert(
                booking(ada.slot, occupied: ada.occupied, email: "ADA@example.com", rules: BookingRules(capacity: 3)))
        }
        #expect(again?.code == .alreadyBooked)
        // A different slot reaching into Ada's buffer stays refused, by the rules and by the trigger.
        let overlapping = await #expect(throws: BookingError.self) {
            try await store.insert(booking(try slot(at: 95), email: "eve@example.com", rules: seats))
        }
        #expect(overlapping?.code == .slotUnavailable)
        // Holds work on the upgraded file, and the listing of occupants sees everything.
        _ = try await store.placeHold(hold(try slot(at: 240), token: token(1)))
        let occupants = try await store.occupants(
            resource: .default, overlapping: try slot(at: 0, length: 300), now: now)
        #expect(occupants.map(\.slot) == [ada.slot, ada.slot, try slot(at: 180), try slot(at: 240)])
        #expect(occupants.map(\.isHold) == [false, false, false, true])
        #expect(try await store.notifications(appointmentID: nil).last?.id == 10)
    }

    @Test("the trigger lets the seats of one slot share it and refuses a different overlapping slot, whoever writes")
    func triggerAllowsSeats() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("raw.sqlite")
        _ = try SQLiteStore(location: .file(path))
        let queue = try DatabaseQueue(path: path)
        let minute: Int64 = 60_000
        let base = now.millisecondsSince1970
        let slot = (base + 60 * minute, base + 90 * minute)
        // Two seats of one slot, the second with 10-minute buffers: they may share it.
        try rawInsert(queue, slot: slot, occupied: slot)
        try rawInsert(queue, slot: slot, occupied: (slot.0 - 10 * minute, slot.1 + 10 * minute))
        // Another slot overlapping only the wider seat's buffer (which starts earlier, so it is not the latest row
        // before the new one): refused.
        let touchingBuffer = (slot.1 + 5 * minute, slot.1 + 35 * minute)
        let refused = #expect(throws: DatabaseError.self) {
            try rawInsert(queue, slot: touchingBuffer, occupied: touchingBuffer)
        }
        #expect(refused?.message == "booking_overlap")
        // The same start with another end is another slot.
        let sameStart = (slot.0, slot.1 + minute)
        let otherEnd = #expect(throws: DatabaseError.self) {
            try rawInsert(queue, slot: sameStart, occupied: sameStart)
        }
        #expect(otherEnd?.message == "booking_overlap")
        // A slot ending inside the seats' buffers, and one that spans them: refused.
        #expect(throws: DatabaseError.self) {
            try rawInsert(
                queue, slot: (slot.0 - 30 * minute, slot.0 - 5 * minute),
                occupied: (slot.0 - 30 * minute, slot.0 - 5 * minute))
        }
        #expect(throws: DatabaseError.self) {
            try rawInsert(queue, slot: (slot.0 - minute, slot.1 + minute), occupied: (slot.0 - minute, slot.1 + minute))
        }
        // A slot right after the wider seat's buffer is free, and a third seat of the slot is allowed.
        let after = (slot.1 + 10 * minute, slot.1 + 40 * minute)
        try rawInsert(queue, slot: after, occupied: after)
        try rawInsert(queue, slot: slot, occupied: slot, id: 100)
        // A move onto another slot's seat is allowed; onto a slot overlapping it, refused.
        try await queue.write { db in
            try db.execute(
                sql:
                    "UPDATE appointments SET slot_start = ?, slot_end = ?, occupied_start = ?, occupied_end = ? WHERE id = 100",
                arguments: [after.0, after.1, after.0, after.1])
        }
        let move = #expect(throws: DatabaseError.self) {
            try queue.write { db in
                try db.execute(
                    sql:
                        "UPDATE appointments SET slot_start = ?, slot_end = ?, occupied_start = ?, occupied_end = ? WHERE id = 100",
                    arguments: [after.0 + minute, after.1 + minute, after.0 + minute, after.1 + minute])
            }
        }
        #expect(move?.message == "booking_overlap")
        let rows = try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT slot_start FROM appointments ORDER BY id").map { $0[0] as Int64 }
        }
        #expect(rows == [slot.0, slot.0, after.0, after.0])
    }

    @Test("two stores on one file racing for the seats of one slot fill exactly its capacity")
    func seatsAcrossTwoStores() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("shared.sqlite")
        let stores = try twoStores(on: path)
        let taken = try slot(at: 60)
        let rules = BookingRules(capacity: 3)
        let outcomes = await race(stores, 60) { store, index in
            _ = try await store.insert(booking(taken, email: "guest\(index)@example.com", rules: rules))
        }
        #expect(outcomes.filter { $0 == nil }.count == 3)
        #expect(outcomes.compactMap { $0 }.allSatisfy { $0 == .slotUnavailable })
        #expect(try await stores[1].appointments().count == 3)
    }

    @Test("two stores on one file racing holds against bookings of one slot never give more than its seats")
    func holdsAgainstBookingsAcrossTwoStores() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("shared.sqlite")
        let stores = try twoStores(on: path)
        let taken = try slot(at: 60)
        let rules = BookingRules(capacity: 2)
        let outcomes = await race(stores, 60) { store, index in
            if index.isMultiple(of: 2) {
                _ = try await store.placeHold(hold(taken, token: token(index), rules: rules))
            } else {
                _ = try await store.insert(booking(taken, email: "guest\(index)@example.com", rules: rules))
            }
        }
        #expect(outcomes.filter { $0 == nil }.count == 2)
        #expect(outcomes.compactMap { $0 }.allSatisfy { $0 == .slotUnavailable || $0 == .slotHeld })
        let occupants = try await stores[0].occupants(resource: .default, overlapping: taken, now: now)
        #expect(occupants.count == 2)
        #expect(occupants.allSatisfy { $0.slot == taken })
    }

    @Test("two stores on one file racing for different slots of one day stop at the daily limit")
    func dailyLimitAcrossTwoStores() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("shared.sqlite")
        let stores = try twoStores(on: path)
        let day = try TimeSlot(start: now, end: now.addingTimeInterval(86_400))
        let rules = BookingRules(capacity: 1, periodLimits: [PeriodLimit(kind: .day, period: day, limit: 3)])
        let slots = try (0..<20).map { try slot(at: 60 + $0 * 30) }
        let outcomes = await race(stores, 20) { store, index in
            _ = try await store.insert(booking(slots[index], rules: rules))
        }
        #expect(outcomes.filter { $0 == nil }.count == 3)
        #expect(outcomes.compactMap { $0 }.allSatisfy { $0 == .bookingLimitReached })
    }

    @Test("a hold placed through one store is used by a booking through another, and only once")
    func holdUsedAcrossTwoStores() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("shared.sqlite")
        let first = try SQLiteStore(location: .file(path))
        let second = try SQLiteStore(location: .file(path))
        let held = try slot(at: 60)
        _ = try await first.placeHold(hold(held, token: token(7)))
        let blocked = await #expect(throws: BookingError.self) {
            try await second.insert(booking(held, email: "eve@example.com"))
        }
        #expect(blocked?.code == .slotHeld)
        #expect(blocked?.availableAt == now.addingTimeInterval(300))
        let booked = try await second.insert(booking(held, key: "k", hold: token(7)))
        #expect(booked.record.appointment.slot == held)
        // The hold went with the booking: its token books nothing more, and a replay of the key still answers.
        let reused = await #expect(throws: BookingError.self) {
            try await first.insert(
                booking(held, email: "bob@example.com", rules: BookingRules(capacity: 2), hold: token(7)))
        }
        #expect(reused?.code == .holdExpired)
        #expect(try await first.insert(booking(held, key: "k", hold: token(7))).record == booked.record)
        #expect(try await first.releaseHold(tokenHash: token(7), now: now) == false)
    }

    @Test("a write clears lapsed holds, so the table keeps only live ones")
    func lapsedHoldsAreCleared() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("holds.sqlite")
        let store = try SQLiteStore(location: .file(path))
        for index in 0..<5 { _ = try await store.placeHold(hold(try slot(at: 60 + index * 30), token: token(index))) }
        var later = booking(try slot(at: 600))
        later.now = now.addingTimeInterval(301)
        _ = try await store.insert(later)
        let queue = try DatabaseQueue(path: path)
        #expect(try await queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM slot_holds") } == 0)
    }

    @Test("occupants find the seats reaching into a window from before it, whatever their buffers")
    func occupantsReachingIn() async throws {
        let store = try SQLiteStore(location: .inMemory)
        let early = try slot(at: 60)
        let rules = BookingRules(capacity: 3)
        // Three seats of one slot: the latest-starting one ends first.
        _ = try await store.insert(
            booking(early, occupied: try widened(early, by: 20), email: "a@example.com", rules: rules))
        _ = try await store.insert(
            booking(early, occupied: try widened(early, by: 10), email: "b@example.com", rules: rules))
        _ = try await store.insert(booking(early, email: "c@example.com", rules: rules))
        let window = try TimeSlot(start: early.end.addingTimeInterval(900), end: early.end.addingTimeInterval(7200))
        let occupants = try await store.occupants(resource: .default, overlapping: window, now: now)
        #expect(occupants.map(\.occupied) == [try widened(early, by: 20)])
        let all = try await store.occupants(
            resource: .default, overlapping: try TimeSlot(start: early.start, end: early.end.addingTimeInterval(7200)),
            now: now)
        #expect(all.map(\.occupied) == [try widened(early, by: 20), try widened(early, by: 10), early])
    }
}
