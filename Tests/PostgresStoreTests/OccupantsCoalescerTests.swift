import BookingDomain
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import PostgresStore

/// Reads of one window that arrive while one runs share the next statement, never the one running.
@Suite("PostgreSQL store: occupants reads of one window shared")
struct OccupantsCoalescerTests {
    let week = OccupantsCoalescer.Window(resource: "default", startMilliseconds: 0, endMilliseconds: 604_800_000)
    let now: Int64 = 1_000

    /// A stand-in for the database: each fetch answers with the occupants committed when it started, and may be
    /// held at a gate first.
    final class Database: Sendable {
        private struct State {
            var committed: [SlotOccupant] = []
            var fetches: [Int64] = []
            var gates: [Gate] = []
            var failures: [BookingError] = []
        }

        private let state = Mutex(State())

        /// Commits an occupant: later fetches read it.
        func commit(_ occupant: SlotOccupant) { state.withLock { $0.committed.append(occupant) } }

        /// Makes the next fetch wait at the gate returned, after it read what was committed.
        func holdNextFetch() -> Gate {
            let gate = Gate()
            state.withLock { $0.gates.append(gate) }
            return gate
        }

        /// Makes the next fetch throw `error`.
        func failNextFetch(with error: BookingError) { state.withLock { $0.failures.append(error) } }

        /// The `now` each fetch was made with, in order.
        var fetches: [Int64] { state.withLock { $0.fetches } }

        /// Reads what is committed, with the holds live at `now`, as the statement does.
        func fetch(now: Int64) async throws(BookingError) -> [SlotOccupant] {
            let (read, gate, failure) = state.withLock { state in
                state.fetches.append(now)
                let gate = state.gates.isEmpty ? nil : state.gates.removeFirst()
                let failure = state.failures.isEmpty ? nil : state.failures.removeFirst()
                let read = state.committed.filter { ($0.holdExpiresAt?.millisecondsSince1970 ?? .max) > now }
                return (read, gate, failure)
            }
            await gate?.passed()
            if Task.isCancelled { throw BookingError.storeUnavailable("cancelled") }
            if let failure { throw failure }
            return read
        }
    }

    /// A count shared by tasks.
    final class Count: Sendable {
        let value = Atomic<Int>(0)
    }

    func occupant(at minutes: Int, holdExpiresAt expiry: Int64? = nil) throws -> SlotOccupant {
        let slot = try TimeSlot(
            start: Date(millisecondsSince1970: Int64(minutes) * 60_000),
            end: Date(millisecondsSince1970: Int64(minutes + 30) * 60_000))
        return SlotOccupant(slot: slot, occupied: slot, holdExpiresAt: expiry.map { Date(millisecondsSince1970: $0) })
    }

    func read(
        _ coalescer: OccupantsCoalescer, _ database: Database, window: OccupantsCoalescer.Window? = nil,
        now: Int64? = nil
    ) async throws(BookingError) -> [SlotOccupant] {
        try await coalescer.read(window ?? week, now: now ?? self.now) { now throws(BookingError) in
            try await database.fetch(now: now)
        }
    }

    /// Starts `count` reads, waits until they wait for the next statement, and returns their tasks.
    func waitingReads(
        _ count: Int, _ coalescer: OccupantsCoalescer, _ database: Database, nows: [Int64]? = nil
    ) async throws -> [Task<Result<[SlotOccupant], BookingError>, Never>] {
        let before = coalescer.waitingCount
        let reads = (0..<count).map { index in
            Task { () -> Result<[SlotOccupant], BookingError> in
                do throws(BookingError) {
                    return .success(try await read(coalescer, database, now: nows?[index]))
                } catch {
                    return .failure(error)
                }
            }
        }
        try await eventually { coalescer.waitingCount == before + count }
        #expect(coalescer.waitingCount == before + count)
        return reads
    }

    /// Starts a read whose statement waits at the gate returned, and waits until that statement has started.
    func heldRead(_ coalescer: OccupantsCoalescer, _ database: Database, now: Int64? = nil) async throws -> (
        gate: Gate, read: Task<[SlotOccupant], any Error>
    ) {
        let gate = database.holdNextFetch()
        let started = database.fetches.count
        let read = Task { try await self.read(coalescer, database, now: now) }
        try await eventually { database.fetches.count == started + 1 }
        return (gate, read)
    }

    @Test("a lone read makes its own statement, and the next read makes another")
    func loneReads() async throws {
        let coalescer = OccupantsCoalescer()
        let database = Database()
        #expect(try await read(coalescer, database).isEmpty)
        database.commit(try occupant(at: 60))
        #expect(try await read(coalescer, database) == [try occupant(at: 60)])
        #expect(database.fetches == [now, now])
        #expect(coalescer.statements == 2)
        #expect(coalescer.waitingCount == 0)
    }

    @Test("reads arriving while one runs share the next statement and see what committed before they arrived")
    func sharedAfterARun() async throws {
        let coalescer = OccupantsCoalescer()
        let database = Database()
        let (gate, first) = try await heldRead(coalescer, database)
        database.commit(try occupant(at: 60))
        let later = try await waitingReads(10, coalescer, database)
        #expect(database.fetches.count == 1)
        gate.open()
        #expect(try await first.value.isEmpty)
        for read in later { #expect(try await read.value.get() == [try occupant(at: 60)]) }
        #expect(database.fetches.count == 2)
        #expect(coalescer.statements == 2)
        #expect(coalescer.waitingCount == 0)
        #expect(try await read(coalescer, database) == [try occupant(at: 60)])
        #expect(database.fetches.count == 3)
    }

    @Test("a shared statement asks at the earliest now, and each reader keeps the holds live at its own")
    func holdsLiveAtEachNow() async throws {
        let coalescer = OccupantsCoalescer()
        let database = Database()
        database.commit(try occupant(at: 0))
        database.commit(try occupant(at: 60, holdExpiresAt: 2_000))
        database.commit(try occupant(at: 120, holdExpiresAt: 3_000))
        let (gate, first) = try await heldRead(coalescer, database, now: 500)
        let later = try await waitingReads(3, coalescer, database, nows: [2_500, 1_500, 3_000])
        gate.open()
        #expect(try await first.value.count == 3)
        #expect(database.fetches == [500, 1_500])
        #expect(try await later[0].value.get() == [try occupant(at: 0), try occupant(at: 120, holdExpiresAt: 3_000)])
        #expect(try await later[1].value.get().count == 3)
        #expect(try await later[2].value.get() == [try occupant(at: 0)])
    }

    @Test("a shared statement's error reaches each of its readers, and the next read runs again")
    func sharedError() async throws {
        let coalescer = OccupantsCoalescer()
        let database = Database()
        let (gate, first) = try await heldRead(coalescer, database)
        database.failNextFetch(with: .storeUnavailable("connection lost"))
        let later = try await waitingReads(4, coalescer, database)
        gate.open()
        #expect(try await first.value.isEmpty)
        for read in later {
            await #expect(throws: BookingError.storeUnavailable("connection lost")) { try await read.value.get() }
        }
        database.commit(try occupant(at: 60))
        #expect(try await read(coalescer, database) == [try occupant(at: 60)])
        #expect(coalescer.waitingCount == 0)
    }

    @Test("a read of another window or resource runs at once while one runs")
    func otherWindows() async throws {
        let coalescer = OccupantsCoalescer()
        let database = Database()
        let (gate, first) = try await heldRead(coalescer, database)
        var day = week
        day.endMilliseconds = 86_400_000
        var other = week
        other.resource = "room-2"
        #expect(try await read(coalescer, database, window: day).isEmpty)
        #expect(try await read(coalescer, database, window: other).isEmpty)
        #expect(coalescer.statements == 3)
        gate.open()
        #expect(try await first.value.isEmpty)
    }

    @Test("a cancelled caller's statement does not end the shared one")
    func cancellationStaysWithItsCaller() async throws {
        let coalescer = OccupantsCoalescer()
        let database = Database()
        database.commit(try occupant(at: 60))
        let (gate, first) = try await heldRead(coalescer, database)
        let later = try await waitingReads(3, coalescer, database)
        first.cancel()
        gate.open()
        await #expect(throws: BookingError.storeUnavailable("cancelled")) { try await first.value }
        for read in later { #expect(try await read.value.get() == [try occupant(at: 60)]) }
    }

    @Test("reads of two windows racing bookings on PostgreSQL: each sees every booking of its window made before it")
    func racingBookings() async throws {
        let start = Date(millisecondsSince1970: 1_803_801_600_000)
        let firstDay = try TimeSlot(start: start, end: start.addingTimeInterval(86_400))
        let threeDays = try TimeSlot(start: start, end: start.addingTimeInterval(3 * 86_400))
        let bookings = 100  // 30 minutes each: 48 on the first day, all within the three
        try await withStores(1) { stores in
            let store = stores[0]
            let booked = Count()
            let reads = Count()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for index in 0..<bookings {
                        let slot = try TimeSlot(
                            start: start.addingTimeInterval(Double(index) * 1800),
                            end: start.addingTimeInterval(Double(index + 1) * 1800))
                        _ = try await store.insert(
                            NewAppointment(
                                resource: .default, slot: slot, occupied: slot, customerName: "Ada",
                                customerEmail: "ada\(index)@example.com", note: nil,
                                cancelTokenHash: String(repeating: "c", count: 64), idempotencyKey: nil,
                                requestFingerprint: "f", now: start))
                        booked.value.add(1, ordering: .sequentiallyConsistent)
                    }
                }
                for reader in 0..<16 {
                    let window = reader.isMultiple(of: 2) ? firstDay : threeDays
                    group.addTask {
                        while true {
                            let before = booked.value.load(ordering: .sequentiallyConsistent)
                            let read = try await store.occupants(resource: .default, overlapping: window, now: start)
                            reads.value.add(1, ordering: .relaxed)
                            #expect(read.count >= min(before, window == firstDay ? 48 : bookings))
                            #expect(read.allSatisfy { window.overlaps($0.occupied) })
                            #expect(read.map(\.slot.start) == read.map(\.slot.start).sorted())
                            if before == bookings { return }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.occupants(resource: .default, overlapping: firstDay, now: start).count == 48)
            #expect(try await store.occupants(resource: .default, overlapping: threeDays, now: start).count == bookings)
            let statements = store.occupantsCoalescer.statements
            #expect(statements > 0 && statements < reads.value.load(ordering: .relaxed))
        }
    }
}
