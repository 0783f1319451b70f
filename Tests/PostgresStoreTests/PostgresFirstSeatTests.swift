import BookingDomain
import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStore

/// The first try of a booking at an empty slot (seat 0, without the slot's lock and the guard) and the seat index
/// that keeps it honest against every other taker of the slot: bookings through the claim, moves, and another
/// uncommitted first try.
@Suite("PostgreSQL store: an empty slot's first seat")
struct PostgresFirstSeatTests {
    let now = Date(millisecondsSince1970: 1_803_801_600_000)

    func slot(at minutes: Int) throws -> TimeSlot {
        let start = now.addingTimeInterval(Double(minutes) * 60)
        return try TimeSlot(start: start, end: start.addingTimeInterval(1800))
    }

    func booking(_ slot: TimeSlot, email: String, capacity: Int = 1) -> NewAppointment {
        NewAppointment(
            resource: .default, slot: slot, occupied: slot, customerName: "Ada", customerEmail: email, note: nil,
            cancelTokenHash: String(repeating: "c", count: 64), idempotencyKey: nil, requestFingerprint: "f", now: now,
            rules: BookingRules(capacity: capacity))
    }

    /// The seats of the booked appointments starting at `slot`'s start, ascending.
    static func seats(of slot: TimeSlot, in store: PostgresStore) async throws -> [Int] {
        let rows = try await store.client.query(
            """
            SELECT seat FROM appointments WHERE resource = 'default' AND slot_start = \(slot.start) AND status = 'booked'
            ORDER BY seat
            """, logger: PostgresTestDatabase.logger)
        var seats: [Int] = []
        for try await seat in rows.decode(Int.self) { seats.append(seat) }
        return seats
    }

    /// How another taker holds the slot's lock while it writes: as a first try does (shared), or as a booking or a
    /// move through the claim does (alone).
    enum SlotLockMode: String {
        case shared = "pg_advisory_xact_lock_shared"
        case exclusive = "pg_advisory_xact_lock"
    }

    /// Takes the slot's lock in `mode` and inserts a booked appointment of `slot` on `seat`, in a transaction left
    /// open (another taker of the slot, not yet committed).
    static func uncommittedSeat(
        _ slot: TimeSlot, seat: Int = 0, email: String = "other@example.com", lock mode: SlotLockMode = .shared,
        on client: PostgresClient
    ) async throws -> TableLock {
        let lockName = PostgresStore.slotLockName(.default, slot.start)
        return try await TableLock.hold(
            statement: """
                INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                    customer_email, status, cancel_token_hash, request_fingerprint, created_at, updated_at, seat)
                SELECT 'default', \(slot.start), \(slot.end), \(slot.start), \(slot.end), 'Other', \(email), 'booked', 'h',
                    'other', now(), now(), \(seat)
                FROM (SELECT \(unescaped: mode.rawValue)(hashtextextended(\(lockName), 0))) AS slot_lock
                """, on: client)
    }

    /// Starts `operation` in a task of its own: its result, with any error as a `BookingError`.
    static func started<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T)
        -> Task<Result<T, BookingError>, Never>
    {
        Task {
            do {
                return .success(try await operation())
            } catch let error as BookingError {
                return .failure(error)
            } catch {
                return .failure(.storeUnavailable())
            }
        }
    }

    /// The code of the error in `result`, or `nil` when it succeeded.
    static func code<T>(of result: Result<T, BookingError>) -> BookingError.Code? {
        if case .failure(let error) = result { return error.code }
        return nil
    }

    /// Waits (30 s at most) until a session of this test's database is blocked by another (at a lock, or at
    /// another's uncommitted row of a unique index): whether one was.
    static func someoneWaits(_ client: PostgresClient) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let waiting = try await client.query(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0
                """, logger: PostgresTestDatabase.logger
            ).collect().first?.decode(Int.self)
            if (waiting ?? 0) > 0 { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test("an empty slot's first seat is taken at once while another first try holds the slot's lock, on seat 0")
    func firstSeatSharesTheSlotLock() async throws {
        let target = try slot(at: 60)
        let lockName = PostgresStore.slotLockName(.default, target.start)
        try await withStores(2) { stores in
            let held = try await TableLock.hold(
                statement: "SELECT pg_advisory_xact_lock_shared(hashtextextended(\(lockName), 0))", on: stores[1].client
            )
            let started = ContinuousClock.now
            let outcome = try await stores[0].insert(booking(target, email: "ada@example.com", capacity: 2))
            let waited = ContinuousClock.now - started
            await held.release()
            guard case .created = outcome else {
                Issue.record("expected a new booking, got \(outcome)")
                return
            }
            // Queued behind the held lock, it would wait for the lock timeout (30 s in these tests): 25 s leaves a
            // loaded machine room.
            #expect(waited < .seconds(25), "booked after \(waited): it waited for the slot's lock")
            // The second seat goes through the claim (the slot is not empty), and the third is refused.
            _ = try await stores[0].insert(booking(target, email: "bo@example.com", capacity: 2))
            let full = await #expect(throws: BookingError.self) {
                try await stores[1].insert(booking(target, email: "cy@example.com", capacity: 2))
            }
            #expect(full?.code == .slotUnavailable)
            #expect(try await Self.seats(of: target, in: stores[0]) == [0, 1])
        }
    }

    @Test(
        "a first try that meets an uncommitted taker of the slot at the seat index: after its commit the claim refuses (one seat) or takes seat 1 (two)"
    )
    func firstSeatMeetsACommittedTaker() async throws {
        for capacity in [1, 2] {
            let target = try slot(at: 60 * capacity)
            try await withStores(2) { stores in
                let other = try await Self.uncommittedSeat(target, on: stores[1].client)
                let store = stores[0]
                let booking = booking(target, email: "ada@example.com", capacity: capacity)
                let attempt = Self.started { try await store.insert(booking) }
                #expect(try await Self.someoneWaits(stores[1].client), "the call never waited at the index")
                await other.release(committing: true)
                switch await attempt.value {
                case .success(.created) where capacity == 2:
                    #expect(try await Self.seats(of: target, in: store) == [0, 1])
                case .failure(let error) where capacity == 1:
                    #expect(error.code == .slotUnavailable)
                    #expect(try await Self.seats(of: target, in: store) == [0])
                    #expect(try await store.appointments().map(\.customerEmail) == ["other@example.com"])
                case let outcome:
                    Issue.record("capacity \(capacity): unexpected \(outcome)")
                }
            }
        }
    }

    @Test("a first try that meets an uncommitted taker of the slot that rolls back takes seat 0")
    func firstSeatMeetsARolledBackTaker() async throws {
        let target = try slot(at: 60)
        try await withStores(2) { stores in
            let other = try await Self.uncommittedSeat(target, on: stores[1].client)
            let store = stores[0]
            let booking = booking(target, email: "ada@example.com")
            let attempt = Task { try await store.insert(booking) }
            #expect(try await Self.someoneWaits(stores[1].client), "the call never waited at the index")
            await other.release(committing: false)
            guard case .created(let record) = try await attempt.value else {
                Issue.record("expected a new booking")
                return
            }
            #expect(record.appointment.customerEmail == "ada@example.com")
            #expect(try await Self.seats(of: target, in: store) == [0])
        }
    }

    @Test(
        "a first try of an empty slot that a booking of another start overlaps writes nothing and the claim refuses it; one not yet committed is waited for, and its rollback leaves the slot to the try",
        arguments: [nil, true, false] as [Bool?])
    func firstSeatMeetsAnOverlappingSlot(_ committing: Bool?) async throws {
        let target = try slot(at: 60)
        let overlapping = try slot(at: 45)
        try await withStores(2) { stores in
            let store = stores[0]
            // nil: the overlapping booking is committed before the try; otherwise it is still open during it.
            let other = try await Self.uncommittedSeat(overlapping, lock: .exclusive, on: stores[1].client)
            if committing == nil { await other.release(committing: true) }
            let attempt = Self.started { try await store.insert(booking(target, email: "ada@example.com")) }
            if let committing {
                #expect(try await Self.someoneWaits(stores[1].client), "the try never waited at the constraint")
                await other.release(committing: committing)
            }
            switch await attempt.value {
            case .success(.created(let record)) where committing == false:
                #expect(record.appointment.slot == target)
                #expect(try await Self.seats(of: target, in: store) == [0])
            case .failure(let error) where committing != false:
                #expect(error.code == .slotUnavailable)
                #expect(try await Self.seats(of: target, in: store) == [])
                #expect(try await Self.seats(of: overlapping, in: store) == [0])
            case let outcome:
                Issue.record("\(String(describing: committing)): unexpected \(outcome)")
            }
        }
    }

    @Test(
        "a move into an empty slot that a first try is taking waits for it under the slot's lock: one seat refused, two seats moved to seat 1"
    )
    func moveMeetsAFirstSeat() async throws {
        for capacity in [1, 2] {
            let source = try slot(at: 600)
            let target = try slot(at: 60)
            try await withStores(2) { stores in
                let store = stores[0]
                let moving = try await store.insert(booking(source, email: "ada@example.com", capacity: capacity))
                let other = try await Self.uncommittedSeat(target, on: stores[1].client)
                let move = AppointmentMove(
                    appointmentID: moving.record.appointment.id, slot: target, occupied: target, idempotencyKey: nil,
                    requestFingerprint: "m", now: now, rules: BookingRules(capacity: capacity))
                let attempt = Self.started { try await store.reschedule(move) }
                #expect(try await Self.someoneWaits(stores[1].client), "the call never waited at the index")
                await other.release(committing: true)
                switch await attempt.value {
                case .success(.moved(let moved)?) where capacity == 2:
                    #expect(moved.slot == target)
                    #expect(try await Self.seats(of: target, in: store) == [0, 1])
                case .failure(let error) where capacity == 1:
                    #expect(error.code == .slotUnavailable)
                    #expect(try await Self.seats(of: target, in: store) == [0])
                    #expect(try await Self.seats(of: source, in: store) == [0])
                case let outcome:
                    Issue.record("capacity \(capacity): unexpected \(outcome)")
                }
            }
        }
    }

    @Test(
        "a first try at a slot just emptied by a cancel, whose taker through the claim has not committed Cy's seat 1: the claim waits for it, and Cy is already booked"
    )
    func firstSeatMeetsTheSameCustomer() async throws {
        let target = try slot(at: 60)
        try await withStores(2) { stores in
            let store = stores[0]
            let other = try await store.insert(booking(target, email: "yan@example.com", capacity: 2))
            // Cy's booking through the claim saw Yan on seat 0 and wrote seat 1; it has not committed yet.
            let claimed = try await Self.uncommittedSeat(
                target, seat: 1, email: "cy@example.com", lock: .exclusive, on: stores[1].client)
            _ = try await store.cancel(id: other.record.appointment.id, now: now)
            let again = booking(target, email: "Cy@Example.com", capacity: 2)
            let attempt = Self.started { try await store.insert(again) }
            #expect(try await Self.someoneWaits(stores[1].client), "the booking never waited for the claim's taker")
            await claimed.release(committing: true)
            #expect(await Self.code(of: attempt.value) == .alreadyBooked)
            #expect(try await Self.seats(of: target, in: store) == [1])
        }
    }

    @Test(
        "a first try finding the slot's lock held by a taker through the claim goes to the claim, waits for it, then takes seat 0"
    )
    func firstSeatDefersToTheClaim() async throws {
        let target = try slot(at: 60)
        try await withStores(2) { stores in
            let store = stores[0]
            let held = try await TableLock.holdAdvisory(
                PostgresStore.slotLockName(.default, target.start), on: stores[1].client)
            let booking = booking(target, email: "ada@example.com")
            let attempt = Task { try await store.insert(booking) }
            #expect(try await Self.someoneWaits(stores[1].client), "the booking never waited for the slot's lock")
            await held.release()
            guard case .created = try await attempt.value else {
                Issue.record("expected a new booking")
                return
            }
            #expect(try await Self.seats(of: target, in: store) == [0])
        }
    }

    @Test(
        "a first try of a slot with the same start and another end, while a taker through the claim has not committed its seat: the claim refuses the overlap"
    )
    func firstSeatMeetsAnotherEnd() async throws {
        let long = try slot(at: 60)
        let short = try TimeSlot(start: long.start, end: long.start.addingTimeInterval(900))
        try await withStores(2) { stores in
            let store = stores[0]
            let yan = try await store.insert(booking(long, email: "yan@example.com", capacity: 2))
            let claimed = try await Self.uncommittedSeat(
                long, seat: 1, email: "xi@example.com", lock: .exclusive, on: stores[1].client)
            _ = try await store.cancel(id: yan.record.appointment.id, now: now)
            let other = booking(short, email: "zoe@example.com", capacity: 2)
            let attempt = Self.started { try await store.insert(other) }
            #expect(try await Self.someoneWaits(stores[1].client), "the booking never waited for the claim's taker")
            await claimed.release(committing: true)
            #expect(await Self.code(of: attempt.value) == .slotUnavailable)
            #expect(
                try await store.appointments().filter { $0.status == .booked }.map(\.customerEmail) == [
                    "xi@example.com"
                ])
        }
    }

    @Test("a cancelled first seat is free again; one customer still takes one seat of a slot")
    func cancelledSeatIsReused() async throws {
        let target = try slot(at: 60)
        try await withStores(1) { stores in
            let store = stores[0]
            let first = try await store.insert(booking(target, email: "ada@example.com", capacity: 3))
            _ = try await store.insert(booking(target, email: "bo@example.com", capacity: 3))
            _ = try await store.cancel(id: first.record.appointment.id, now: now)
            #expect(try await Self.seats(of: target, in: store) == [1])
            // Seat 0 is free, but the slot is not empty: the booking goes through the claim, which knows Bo.
            let twice = await #expect(throws: BookingError.self) {
                try await store.insert(booking(target, email: "BO@example.com", capacity: 3))
            }
            #expect(twice?.code == .alreadyBooked)
            _ = try await store.insert(booking(target, email: "cy@example.com", capacity: 3))
            #expect(try await Self.seats(of: target, in: store) == [0, 1])
        }
    }
}
