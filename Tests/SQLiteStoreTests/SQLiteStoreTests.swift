import BookingDomain
import Foundation
import GRDB
import TestSupport
import Testing

@testable import SQLiteStore

@Suite("SQLite store")
struct SQLiteStoreTests {
    let now = Date(millisecondsSince1970: 1_803_801_600_000)

    func draft(at minutes: Int, key: String? = nil) throws -> NewAppointment {
        let start = now.addingTimeInterval(Double(minutes) * 60)
        let slot = try TimeSlot(start: start, end: start.addingTimeInterval(1800))
        return NewAppointment(
            resource: .default, slot: slot, occupied: slot, customerName: "Ada", customerEmail: "ada@example.com",
            note: nil,
            cancelTokenHash: String(repeating: "c", count: 64), idempotencyKey: key, requestFingerprint: "f", now: now)
    }

    @Test("two independent pools on one file booking one slot concurrently: exactly one wins")
    func twoPoolsOneFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("shared.sqlite")
        let first = try SQLiteStore(location: .file(path), configuration: racingConfiguration)
        let second = try SQLiteStore(location: .file(path), configuration: racingConfiguration)
        let new = try draft(at: 60)
        let results = await withTaskGroup(of: BookingError.Code?.self) { group in
            for index in 0..<100 {
                let store = index.isMultiple(of: 2) ? first : second
                group.addTask {
                    do {
                        _ = try await store.insert(new)
                        return nil
                    } catch let error as BookingError {
                        return error.code
                    } catch {
                        return .storeUnavailable
                    }
                }
            }
            return await group.reduce(into: [BookingError.Code?]()) { $0.append($1) }
        }
        #expect(results.filter { $0 == nil }.count == 1)
        #expect(results.compactMap { $0 }.allSatisfy { $0 == .slotUnavailable })
        #expect(try await first.appointments().count == 1)
        #expect(try await second.notifications(appointmentID: nil).count == 1)
    }

    @Test(
        "a busy timeout past SQLite's 32-bit milliseconds (or below zero) counts as 24 h (or 10 ms): the store opens and books"
    )
    func busyTimeoutOutOfRange() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for timeout in [Duration.seconds(Int64.max), .seconds(30 * 86_400), .seconds(Int64.min), .zero] {
            let store = try SQLiteStore(
                location: .file(directory.file("busy-\(timeout.components.seconds).sqlite")),
                configuration: .init(busyTimeout: timeout))
            // A write's budget counts its wait for the writer's queue too: on a loaded machine 10 ms can run out
            // before the write starts (`storeUnavailable`), and a client tries again. A budget of nothing would
            // refuse every try.
            var booked: InsertOutcome?
            let deadline = ContinuousClock.now + .seconds(30)
            while booked == nil && ContinuousClock.now < deadline {
                do {
                    booked = try await store.insert(draft(at: 60))
                } catch let error as BookingError where error.code == .storeUnavailable {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(booked?.record.appointment.status == .booked, "\(timeout)")
        }
    }

    @Test(
        "opening a file another process keeps write-locked fails once, after the busy timeout, not after every retry's")
    func openBehindALock() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("locked.sqlite")
        _ = try SQLiteStore(location: .file(path))
        var holding = Configuration()
        holding.allowsUnsafeTransactions = true  // the lock outlives one access, as another process's would
        let holder = try DatabaseQueue(path: path, configuration: holding)
        try await holder.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        // On a thread of its own: the open blocks its thread for the busy timeout.
        let (opened, waited) = await onOwnThread {
            let started = ContinuousClock.now
            let opened = Result { () throws(BookingError) in
                try SQLiteStore(location: .file(path), configuration: .init(busyTimeout: .seconds(1)))
            }
            return (opened, ContinuousClock.now - started)
        }
        let error = #expect(throws: BookingError.self) { try opened.get() }
        #expect(error?.code == .storeUnavailable)
        // Ten retries of a second each, and their pauses, took 10.9 s before; one busy timeout is about 1 s (SQLite
        // counts the sleeps it asks for, which a busy machine lengthens).
        #expect(waited >= .seconds(1) && waited < .seconds(8), "\(waited)")
        try await holder.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        #expect(try await SQLiteStore(location: .file(path)).appointments().isEmpty, "opens once the lock is gone")
    }

    @Test("a file that lost a no-overlap trigger, its migrations recorded, is refused on open, naming it")
    func damagedSchema() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("damaged.sqlite")
        _ = try SQLiteStore(location: .file(path))
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "DROP TRIGGER appointments_no_overlap_on_insert")
        }
        let error = #expect(throws: BookingError.self) { try SQLiteStore(location: .file(path)) }
        #expect(error?.code == .storeUnavailable)
        #expect(
            error?.message.contains("its schema is damaged: trigger appointments_no_overlap_on_insert missing") == true,
            "\(error?.message ?? "")")
    }

    @Test("two pools racing with one idempotency key create one appointment")
    func twoPoolsOneKey() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("shared.sqlite")
        let stores = [try SQLiteStore(location: .file(path)), try SQLiteStore(location: .file(path))]
        let new = try draft(at: 60, key: "same-key")
        let ids = await withTaskGroup(of: Int64?.self) { group in
            for index in 0..<50 {
                group.addTask { try? await stores[index % 2].insert(new).record.appointment.id }
            }
            return await group.reduce(into: [Int64?]()) { $0.append($1) }
        }
        #expect(ids.allSatisfy { $0 != nil })
        #expect(Set(ids).count == 1)
    }

    @Test("a database made by schema v1 upgrades without loss")
    func upgradeFromV1() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("old.sqlite")
        let fixture = try #require(
            Bundle.module.url(forResource: "schema-v1", withExtension: "sql", subdirectory: "Fixtures"))
        let queue = try DatabaseQueue(path: path)
        let script = try String(contentsOf: fixture, encoding: .utf8)
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: script)
            // As if notifications 4 to 9 had been purged: ids must never be handed out twice (they are webhook-ids).
            try db.execute(sql: "UPDATE sqlite_sequence SET seq = 9 WHERE name = 'notifications'")
        }
        try queue.close()

        let store = try SQLiteStore(location: .file(path))
        #expect(
            try await store.appliedMigrations() == [
                "v1-appointments-and-notifications", "v2-listing-index", "v3-sealed-cancel-tokens", "v4-reschedule",
                "v5-reminders", "v6-capacity-and-holds",
            ])
        let appointments = try await store.appointments()
        #expect(appointments.map(\.customerName) == ["Ada Lovelace", "Grace Hopper"])
        #expect(appointments.map(\.status) == [.booked, .cancelled])
        #expect(appointments[1].createdAt.millisecondsSince1970 == 1_803_801_600_123)
        // The plain key of schema v1 is now kept as its SHA-256 form, which the service looks up.
        #expect(try await store.record(idempotencyKey: "fixture-key") == nil)
        let upgraded = try await store.record(
            idempotencyKey: AppointmentRecord.storedIdempotencyKey(for: "fixture-key"))
        #expect(upgraded?.appointment.id == 1)
        #expect(upgraded?.sealedCancelToken == nil)
        let notifications = try await store.notifications(appointmentID: nil)
        #expect(notifications.map(\.status) == [.sent, .sent, .failed])
        #expect(notifications.last?.lastError == "HTTP 410")
        // The upgraded database keeps enforcing the rules and keeps counting ids.
        let taken = try draft(at: 60)
        let error = await #expect(throws: BookingError.self) { try await store.insert(taken) }
        #expect(error?.code == .slotUnavailable)
        let fresh = try await store.insert(try draft(at: 240))
        #expect(fresh.record.appointment.id == 3)
        // The notifications copied by v4 and v5 keep their ids, sequence 0 and no lead, and new ones continue
        // after the highest id ever handed out, not after the highest one left.
        let copied = try await store.notifications(appointmentID: nil)
        #expect(copied.map(\.id) == [1, 2, 3, 10])
        #expect(copied.map(\.sequence) == [0, 0, 0, 0])
        #expect(copied.allSatisfy { $0.reminderLead == nil })
        #expect(appointments.map(\.sequence) == [0, 0])
        // Opening again applies nothing new.
        let reopened = try SQLiteStore(location: .file(path))
        #expect(try await reopened.appliedMigrations().count == 6)
    }

    @Test("a file location that names no file (empty, or SQLite's :memory:) is invalid input pointing to .inMemory")
    func noFile() {
        for path in ["", ":memory:"] {
            let error = #expect(throws: BookingError.self, "\(path)") { try SQLiteStore(location: .file(path)) }
            #expect(error?.code == .invalidInput && error?.fieldErrors["location"]?.contains(".inMemory") == true)
        }
    }

    @Test("opening from many stores at once migrates once")
    func concurrentMigrations() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("fresh.sqlite")
        // Each open on a thread of its own: truly at once, and a wait for another's lock blocks no shared thread.
        let opened = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 { group.addTask { await onOwnThread { (try? SQLiteStore(location: .file(path))) != nil } } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(opened == Array(repeating: true, count: 8))
        #expect(try await SQLiteStore(location: .file(path)).appliedMigrations().count == 6)
    }

    @Test("the database itself refuses an overlapping booked row, whoever writes it")
    func triggerRefusesOverlap() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("raw.sqlite")
        let store = try SQLiteStore(location: .file(path))
        _ = try await store.insert(try draft(at: 60))
        let queue = try DatabaseQueue(path: path)
        #expect(throws: DatabaseError.self) {
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                            customer_email, status, cancel_token_hash, request_fingerprint, created_at, updated_at)
                        VALUES ('default', 1803805500000, 1803807300000, 1803805500000, 1803807300000, 'Eve', 'eve@example.com',
                            'booked', 'x', 'y', 0, 0)
                        """)
            }
        }
        #expect(throws: DatabaseError.self) {
            try queue.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name, customer_email, status, cancel_token_hash, request_fingerprint, created_at, updated_at) VALUES ('default', 10, 5, 10, 5, 'Eve', 'eve@example.com', 'booked', 'x', 'y', 0, 0)"
                )
            }
        }
        #expect(try await store.appointments().count == 1)
    }

    @Test("the database itself refuses moving a booked row onto another's interval, and lets it overlap its own")
    func triggerRefusesOverlappingMove() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("raw.sqlite")
        let store = try SQLiteStore(location: .file(path))
        let first = try await store.insert(try draft(at: 60)).record.appointment
        let second = try await store.insert(try draft(at: 120)).record.appointment
        let queue = try DatabaseQueue(path: path)
        func move(_ id: Int64, by minutes: Int64) throws {
            try queue.write { db in
                try db.execute(
                    sql: """
                        UPDATE appointments SET slot_start = slot_start + ?, slot_end = slot_end + ?,
                            occupied_start = occupied_start + ?, occupied_end = occupied_end + ?
                        WHERE id = ?
                        """,
                    arguments: [minutes * 60_000, minutes * 60_000, minutes * 60_000, minutes * 60_000, id])
            }
        }
        let refused = #expect(throws: DatabaseError.self) { try move(first.id, by: 45) }
        #expect(refused?.message == "booking_overlap")
        try move(first.id, by: 15)
        try move(second.id, by: -15)
        // 60-90 moved to 75-105 and 120-150 to 105-135: each overlaps only its own old interval; they touch.
        #expect(
            try await store.appointments().map(\.slot.start) == [
                first.slot.start.addingTimeInterval(900), second.slot.start.addingTimeInterval(-900),
            ])
    }

    @Test("bad input at the store boundary is refused with a clear error and writes nothing")
    func badInput() async throws {
        let store = try SQLiteStore(location: .inMemory)
        var outside = try draft(at: 60)
        outside.occupied = try TimeSlot(start: outside.slot.start.addingTimeInterval(60), end: outside.slot.end)
        let error = await #expect(throws: BookingError.self) { try await store.insert(outside) }
        #expect(error?.code == .invalidInput)
        #expect(error?.fieldErrors["occupied"] != nil)
        var longName = try draft(at: 120)
        longName.customerName = String(repeating: "x", count: 201)
        let schemaError = await #expect(throws: BookingError.self) { try await store.insert(longName) }
        #expect(schemaError?.code == .invalidInput)
        #expect(schemaError?.description.contains("INSERT") == false)
        #expect(try await store.appointments().isEmpty)
        #expect(try await store.notifications(appointmentID: nil).isEmpty)
    }

    @Test("the chosen durability is what the committing connection runs with: FULL by default, NORMAL when asked")
    func durabilityInForce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let full = try SQLiteStore(location: .file(directory.file("full.sqlite")))
        #expect(try await full.synchronousSetting() == 2)
        let normal = try SQLiteStore(
            location: .file(directory.file("normal.sqlite")), configuration: .init(durability: .normal))
        #expect(try await normal.synchronousSetting() == 1)
        let inMemory = try SQLiteStore(location: .inMemory, configuration: .init(durability: .normal))
        #expect(try await inMemory.synchronousSetting() == 1)
    }

    @Test("a store released without close leaves its file whole, with no write-ahead log behind")
    func releasedWithoutClose() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("released.sqlite")
        do {
            let store = try SQLiteStore(location: .file(path))
            let slot = try draft(at: 60).slot
            _ = try await store.insert(try draft(at: 60))
            #expect(try await store.occupants(resource: .default, overlapping: slot, now: now).count == 1)
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(try await SQLiteStore(location: .file(path)).appointments().count == 1)
    }

    @Test(
        "a directory that cannot hold the file, or a file that is no database, is a store-unavailable error saying so")
    func unopenable() throws {
        let error = #expect(throws: BookingError.self) {
            try SQLiteStore(location: .file("/proc/no-such-dir/booking.sqlite"))
        }
        #expect(error?.code == .storeUnavailable)
        #expect(error?.message.contains("cannot be opened") == true, "\(String(describing: error))")
        let path = NSTemporaryDirectory() + "not-a-database-\(UUID().uuidString).sqlite"
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let notDatabase = #expect(throws: BookingError.self) { try SQLiteStore(location: .file(path)) }
        #expect(notDatabase?.code == .storeUnavailable)
        #expect(notDatabase?.message.contains("not a SQLite database") == true, "\(String(describing: notDatabase))")
    }
}
