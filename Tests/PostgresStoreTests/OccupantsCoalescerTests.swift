import BookingDomain
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import PostgresStore

/// Reads of the same minutes that arrive while one runs share the next statement, never the one running. The tests
/// wait on gates of a stand-in database: a read left waiting fails at the time limit instead of hanging the run.
@Suite("PostgreSQL store: occupants reads of the same minutes shared", .timeLimit(.minutes(2)))
struct OccupantsCoalescerTests {
    let week = OccupantsCoalescer.Window(resource: "default", startMilliseconds: 0, endMilliseconds: 604_800_000)
    let now: Int64 = 1_000

    /// A stand-in for the database: each fetch answers with the occupants committed when it started, and may be
    /// held at a gate first.
    final class Database: Sendable {
        private struct State {
            var committed: [SlotOccupant] = []
            var fetches: [Int64] = []
            var windows: [OccupantsCoalescer.Window] = []
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

        /// The window each fetch read, in order.
        var windows: [OccupantsCoalescer.Window] { state.withLock { $0.windows } }

        /// Reads what is committed overlapping `window`, with the holds live at `now`, as the statement does.
        func fetch(_ window: OccupantsCoalescer.Window, now: Int64) async throws(BookingError) -> [SlotOccupant] {
            let (read, gate, failure) = state.withLock { state in
                state.fetches.append(now)
                state.windows.append(window)
                let gate = state.gates.isEmpty ? nil : state.gates.removeFirst()
                let failure = state.failures.isEmpty ? nil : state.failures.removeFirst()
                let read = state.committed.filter {
                    ($0.holdExpiresAt?.millisecondsSince1970 ?? .max) > now
                        && $0.occupied.start.millisecondsSince1970 < window.endMilliseconds
                        && $0.occupied.end.millisecondsSince1970 > window.startMilliseconds
                }
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
        try occupant(from: Int64(minutes) * 60_000, to: Int64(minutes + 30) * 60_000, holdExpiresAt: expiry)
    }

    func occupant(from start: Int64, to end: Int64, holdExpiresAt expiry: Int64? = nil) throws -> SlotOccupant {
        let slot = try TimeSlot(start: Date(millisecondsSince1970: start), end: Date(millisecondsSince1970: end))
        return SlotOccupant(slot: slot, occupied: slot, holdExpiresAt: expiry.map { Date(millisecondsSince1970: $0) })
    }

    func window(_ start: Int64, _ end: Int64) -> OccupantsCoalescer.Window {
        OccupantsCoalescer.Window(resource: "default", startMilliseconds: start, endMilliseconds: end)
    }

    func read(
        _ coalescer: OccupantsCoalescer, _ database: Database, window: OccupantsCoalescer.Window? = nil,
        now: Int64? = nil
    ) async throws(BookingError) -> [SlotOccupant] {
        try await coalescer.read(window ?? week, now: now ?? self.now) { window, now throws(BookingError) in
            try await database.fetch(window, now: now)
        }
    }

    /// Starts `count` reads, waits until they wait for the next statement, and returns their tasks.
    func waitingReads(
        _ count: Int, _ coalescer: OccupantsCoalescer, _ database: Database, nows: [Int64]? = nil,
        windows: [OccupantsCoalescer.Window]? = nil
    ) async throws -> [Task<Result<[SlotOccupant], BookingError>, Never>] {
        let before = coalescer.waitingCount
        let reads = (0..<count).map { index in
            Task { () -> Result<[SlotOccupant], BookingError> in
                do throws(BookingError) {
                    return .success(
                        try await read(coalescer, database, window: windows?[index], now: nows?[index]))
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
    func heldRead(
        _ coalescer: OccupantsCoalescer, _ database: Database, window: OccupantsCoalescer.Window? = nil,
        now: Int64? = nil
    ) async throws -> (gate: Gate, read: Task<[SlotOccupant], any Error>) {
        let gate = database.holdNextFetch()
        let started = database.fetches.count
        let read = Task { try await self.read(coalescer, database, window: window, now: now) }
        try await eventually { database.fetches.count == started + 1 }
        #expect(database.fetches.count == started + 1)
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
        try await eventually { coalescer.runningCount == 0 }
        #expect(coalescer.runningCount == 0)
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
        #expect(try await later[0].value.get() == [try occupant(at: 0), try occupant(at: 120, holdExpiresAt: 3_000)])
        #expect(try await later[1].value.get().count == 3)
        #expect(try await later[2].value.get() == [try occupant(at: 0)])
        #expect(database.fetches == [500, 1_500])
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
        #expect(coalescer.runningCount == 0)
    }

    @Test("reads of windows in the same minutes share one statement of the smallest window holding theirs")
    func windowsOfTheSameMinutes() async throws {
        let coalescer = OccupantsCoalescer()
        let database = Database()
        let edge = try occupant(from: 0, to: 1_000)
        let inside = try occupant(at: 60)
        let end = try occupant(from: 604_799_000, to: 604_800_000)
        for occupant in [edge, inside, end] { database.commit(occupant) }
        let (gate, first) = try await heldRead(coalescer, database)
        let narrow = window(1_000, 604_799_000)
        let wide = window(500, 604_799_600)
        let later = try await waitingReads(2, coalescer, database, windows: [narrow, wide])
        gate.open()
        #expect(try await first.value == [edge, inside, end])
        #expect(try await later[0].value.get() == [inside])
        #expect(try await later[1].value.get() == [edge, inside, end])
        #expect(database.windows == [week, wide])
        #expect(coalescer.statements == 2)
    }

    @Test("a read of an empty window shares a statement and keeps nothing, as its own statement would")
    func emptyWindowShares() async throws {
        let coalescer = OccupantsCoalescer()
        let database = Database()
        database.commit(try occupant(from: 0, to: 60_000))
        let (gate, first) = try await heldRead(coalescer, database, window: window(0, 60_000))
        let later = try await waitingReads(
            2, coalescer, database, windows: [window(30_000, 30_000), window(10_000, 20_000)])
        gate.open()
        #expect(try await first.value.count == 1)
        #expect(try await later[0].value.get().isEmpty)
        #expect(try await later[1].value.get().count == 1)
        #expect(database.windows.last == window(10_000, 30_000))
    }

    @Test("windows meet by whole minutes, rounded outward, at the ends of the range too")
    func minutesOfWindows() {
        let cases: [(window: [Int64], minutes: [Int64])] = [
            ([0, 60_000], [0, 1]),
            ([1, 59_999], [0, 1]),
            ([59_999, 60_001], [0, 2]),
            ([-1, 1], [-1, 1]),
            ([-60_000, -60_000], [-1, -1]),
            ([-60_001, -59_999], [-2, 0]),
            ([Int64.min, Int64.max], [Int64.min / 60_000 - 1, Int64.max / 60_000 + 1]),
        ]
        for (bounds, expected) in cases {
            let minutes = OccupantsCoalescer.Minutes(of: window(bounds[0], bounds[1]))
            #expect([minutes.first, minutes.end] == expected, "\(bounds)")
        }
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

    @Test("a read already cancelled when it would wait answers at once and never joins the queue")
    func cancelledBeforeWaiting() async throws {
        let coalescer = OccupantsCoalescer()
        let database = Database()
        let (gate, first) = try await heldRead(coalescer, database)
        let cancelled = Task { () -> Result<[SlotOccupant], BookingError> in
            withUnsafeCurrentTask { $0?.cancel() }
            do throws(BookingError) {
                return .success(try await read(coalescer, database))
            } catch {
                return .failure(error)
            }
        }
        let answer = await cancelled.value
        #expect(throws: BookingError.storeUnavailable("the operation was cancelled")) { try answer.get() }
        #expect(coalescer.waitingCount == 0)
        gate.open()
        #expect(try await first.value.isEmpty)
        #expect(database.fetches.count == 1)
    }

    @Test("a window ending before it starts runs its own statement while a read of its minutes runs")
    func invertedWindowRunsAlone() async throws {
        let coalescer = OccupantsCoalescer()
        let database = Database()
        let (gate, first) = try await heldRead(coalescer, database, window: window(0, 60_000))
        #expect(try await read(coalescer, database, window: window(30_000, 20_000)).isEmpty)
        #expect(database.windows == [window(0, 60_000), window(30_000, 20_000)])
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

    @Test("a waiting read that is cancelled answers at once and leaves the others their shared statement")
    func cancelledWhileWaiting() async throws {
        let coalescer = OccupantsCoalescer()
        let database = Database()
        database.commit(try occupant(at: 60))
        let (gate, first) = try await heldRead(coalescer, database)
        let later = try await waitingReads(3, coalescer, database, nows: [now, now - 500, now])
        later[1].cancel()
        let cancelled = await later[1].value
        #expect(throws: BookingError.storeUnavailable("the operation was cancelled")) { try cancelled.get() }
        #expect(coalescer.waitingCount == 2)
        #expect(database.fetches.count == 1)
        gate.open()
        #expect(try await first.value == [try occupant(at: 60)])
        for index in [0, 2] { #expect(try await later[index].value.get() == [try occupant(at: 60)]) }
        #expect(database.fetches == [now, now])
        try await eventually { coalescer.runningCount == 0 }
        #expect(coalescer.runningCount == 0)
    }
}
