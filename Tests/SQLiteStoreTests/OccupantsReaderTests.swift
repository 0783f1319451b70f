import BookingDomain
import Foundation
import GRDB
import Synchronization
import Testing

@testable import SQLiteStore

@Suite("SQLite availability read on its own connections")
struct OccupantsReaderTests {
    /// The SQLite store tests' instant and bookings.
    let fixtures = SQLiteStoreTests()
    var now: Date { fixtures.now }

    func draft(at minutes: Int) throws -> NewAppointment { try fixtures.draft(at: minutes) }

    /// A 30-minute hold `minutes` after ``now``, lapsing 10 minutes after it.
    func hold(at minutes: Int) throws -> NewHold {
        let slot = try draft(at: minutes).slot
        return NewHold(
            resource: .default, slot: slot, occupied: slot, tokenHash: String(repeating: "h", count: 64),
            expiresAt: now.addingTimeInterval(600), now: now, rules: BookingRules(capacity: 1))
    }

    var day: TimeSlot { get throws { try TimeSlot(start: now, end: now.addingTimeInterval(86_400)) } }

    @Test("a file store reads on its own connections; a private in-memory one has none")
    func onlyFileStores() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(try SQLiteStore(location: .file(directory.file("reader.sqlite"))).occupantsReader != nil)
        #expect(try SQLiteStore(location: .inMemory).occupantsReader == nil)
    }

    @Test("a read sees at once what another store on the file committed, bookings, holds and cancels alike")
    func seesOtherWriters() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("shared.sqlite")
        let writer = try SQLiteStore(location: .file(path))
        let reader = try SQLiteStore(location: .file(path))
        #expect(try await reader.occupants(resource: .default, overlapping: day, now: now).isEmpty)

        let booked = try draft(at: 60)
        guard case .created(let record) = try await writer.insert(booked) else {
            Issue.record("the booking was not created")
            return
        }
        let bookedOccupant = SlotOccupant(slot: booked.slot, occupied: booked.occupied)
        #expect(try await reader.occupants(resource: .default, overlapping: day, now: now) == [bookedOccupant])

        let hold = try hold(at: 120)
        let placed = try await writer.placeHold(hold)
        let heldOccupant = SlotOccupant(slot: hold.slot, occupied: hold.occupied, holdExpiresAt: placed.expiresAt)
        #expect(
            try await reader.occupants(resource: .default, overlapping: day, now: now) == [
                bookedOccupant, heldOccupant,
            ])
        #expect(
            try await reader.occupants(resource: .default, overlapping: day, now: now.addingTimeInterval(600)) == [
                bookedOccupant
            ])

        _ = try await writer.cancel(id: record.appointment.id, now: now)
        #expect(try await reader.occupants(resource: .default, overlapping: day, now: now) == [heldOccupant])
    }

    @Test("a file store whose own connections all decline reads the same through GRDB: bookings, holds and expiries")
    func declinedReadsGoThroughGRDB() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("declined.sqlite")
        let store = try SQLiteStore(location: .file(path))
        for minutes in [0, 60, 120] { _ = try await store.insert(try draft(at: minutes)) }
        _ = try await store.placeHold(try hold(at: 240))
        let declining = try SQLiteStore(
            location: .file(path), configuration: .init(), occupantsConnectionLimit: 0)
        let ownConnections = try #require(declining.occupantsReader)
        #expect(try ownConnections.occupants(resource: .default, overlapping: try day, now: 0) == nil)
        for instant in [now, now.addingTimeInterval(600)] {
            let expected = try await store.occupants(resource: .default, overlapping: try day, now: instant)
            #expect(expected.count == (instant == now ? 4 : 3))
            #expect(try await declining.occupants(resource: .default, overlapping: try day, now: instant) == expected)
        }
        #expect(ownConnections.openConnectionCount == 0)
    }

    @Test("reads racing bookings each see a whole, ordered list")
    func concurrentReads() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(
            location: .file(directory.file("busy.sqlite")),
            configuration: .init(busyTimeout: racingConfiguration.busyTimeout, maximumReaderCount: 3))
        let drafts = try (0..<40).map { try draft(at: 30 * $0) }
        let window = try TimeSlot(start: now, end: now.addingTimeInterval(40 * 1800))
        let counts = try await withThrowingTaskGroup(of: Int?.self) { group in
            for draft in drafts {
                group.addTask {
                    _ = try await store.insert(draft)
                    return nil
                }
            }
            for _ in 0..<200 {
                group.addTask {
                    let occupants = try await store.occupants(resource: .default, overlapping: window, now: now)
                    let starts = occupants.map(\.occupied.start)
                    #expect(starts == starts.sorted())
                    #expect(Set(starts).isSubset(of: drafts.map(\.occupied.start)))
                    return occupants.count
                }
            }
            return try await group.compactMap { $0 }.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(counts.count == 200)
        #expect(try await store.occupants(resource: .default, overlapping: window, now: now).count == 40)
    }

    @Test("reads on eight threads at once share at most the connection limit, each answering in full or not at all")
    func connectionLimit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("threads.sqlite")
        let booked = try draft(at: 60)
        _ = try await SQLiteStore(location: .file(path)).insert(booked)
        let reader = OccupantsReader(path: path, connectionLimit: 2)
        let window = try day
        let expected = [SlotOccupant(slot: booked.slot, occupied: booked.occupied)]
        let outcomes = Mutex((answered: 0, declined: 0, wrong: 0))
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            for _ in 0..<8 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    for _ in 0..<200 {
                        let answer = Result { () throws(BookingError) in
                            try reader.occupants(resource: .default, overlapping: window, now: 0)
                        }
                        outcomes.withLock { outcomes in
                            switch answer {
                            case .success(let occupants?) where occupants == expected: outcomes.answered += 1
                            case .success(nil): outcomes.declined += 1
                            default: outcomes.wrong += 1
                            }
                        }
                    }
                }
            }
            group.notify(queue: .global()) { finished.resume() }
        }
        let (answered, declined, wrong) = outcomes.withLock { $0 }
        #expect(wrong == 0)
        #expect(answered + declined == 1600 && answered > 0)
        #expect((1...2).contains(reader.openConnectionCount))
        #expect(reader.idleConnectionCount == reader.openConnectionCount)
    }

    @Test(
        "a file another process keeps locked: the reader declines at once rather than wait, and reads once it is free")
    func lockedFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("locked.sqlite")
        let store = try SQLiteStore(location: .file(path))
        _ = try await store.insert(try draft(at: 60))
        try store.close()
        // Exclusive locking mode in WAL: the lock is taken by the first write and kept until the connection closes.
        let locker = try DatabaseQueue(path: path)
        try await locker.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            try db.execute(sql: "UPDATE appointments SET note = 'locked'")
        }
        let reader = OccupantsReader(path: path, connectionLimit: 1)
        let started = ContinuousClock.now
        #expect(try reader.occupants(resource: .default, overlapping: try day, now: 0) == nil)
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(reader.openConnectionCount == 0)
        try locker.close()
        #expect(try reader.occupants(resource: .default, overlapping: try day, now: 0)?.count == 1)
    }

    @Test("a read keeps working after another connection changes the schema (its statement is prepared again)")
    func schemaChange() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("schema.sqlite")
        let store = try SQLiteStore(location: .file(path))
        let booked = try draft(at: 60)
        _ = try await store.insert(booked)
        #expect(try await store.occupants(resource: .default, overlapping: day, now: now).count == 1)
        let other = try DatabaseQueue(path: path)
        try await other.write { db in
            try db.execute(sql: "CREATE INDEX appointments_by_note ON appointments (note)")
        }
        try other.close()
        #expect(
            try await store.occupants(resource: .default, overlapping: day, now: now) == [
                SlotOccupant(slot: booked.slot, occupied: booked.occupied)
            ])
    }

    @Test("a read after the store is closed is storeUnavailable, and the idle connections are closed")
    func afterClose() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(location: .file(directory.file("closed.sqlite")))
        _ = try await store.occupants(resource: .default, overlapping: day, now: now)
        let reader = try #require(store.occupantsReader)
        #expect(reader.idleConnectionCount == 1)
        try store.close()
        #expect(reader.idleConnectionCount == 0 && reader.openConnectionCount == 0)
        await #expect(throws: BookingError.storeUnavailable("the store is closed")) {
            try await store.occupants(resource: .default, overlapping: day, now: now)
        }
    }

    @Test("a file that is not a database is storeUnavailable for the read, with no SQL in the message")
    func notADatabase() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("garbage.sqlite")
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        let reader = OccupantsReader(path: path, connectionLimit: 1)
        #expect(throws: BookingError.storeUnavailable("the file is not a SQLite database")) {
            try reader.occupants(resource: .default, overlapping: try day, now: 0)
        }
        #expect(reader.openConnectionCount == 0)
    }
}
