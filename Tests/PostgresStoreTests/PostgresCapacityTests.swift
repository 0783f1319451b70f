import BookingDomain
import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStore

/// Capacity, limits and holds across processes: every store here has a pool of its own, as a separate
/// booking server would, so only the database can keep the rules.
@Suite("PostgreSQL store: capacity, limits and holds across processes")
struct PostgresCapacityTests {
    let now = Date(millisecondsSince1970: 1_803_801_600_000)

    func slot(at minutes: Int, length: Int = 30) throws -> TimeSlot {
        let start = now.addingTimeInterval(Double(minutes) * 60)
        return try TimeSlot(start: start, end: start.addingTimeInterval(Double(length) * 60))
    }

    func booking(
        _ slot: TimeSlot, email: String = "ada@example.com", rules: BookingRules = .single, hold: String? = nil
    )
        -> NewAppointment
    {
        NewAppointment(
            resource: .default, slot: slot, occupied: slot, customerName: "Ada", customerEmail: email, note: nil,
            cancelTokenHash: String(repeating: "c", count: 64), idempotencyKey: nil, requestFingerprint: "f", now: now,
            rules: rules, holdTokenHash: hold)
    }

    func hold(_ slot: TimeSlot, token: String, rules: BookingRules = .single, minutes: Double = 10) -> NewHold {
        NewHold(
            resource: .default, slot: slot, occupied: slot, tokenHash: Self.tokenHash(token),
            expiresAt: now.addingTimeInterval(minutes * 60), now: now, rules: rules)
    }

    static func tokenHash(_ token: String) -> String {
        String(repeating: "0", count: 64 - token.utf8.count) + token
    }

    /// Calls the booking procedure with `values` as the store does (its prepared call): whether it created the
    /// appointment, `nil` when it refused.
    static func callInsertProcedure(_ values: ClaimValues, on connection: PostgresConnection) async throws -> Bool? {
        var rows: [PostgresRow] = []
        for try await row in try await connection.execute(
            PreparedClaim<InsertCallStatement>(values: values), logger: PostgresTestDatabase.logger)
        {
            rows.append(row)
        }
        return try rows.first?.makeRandomAccess()["created"].decode(Bool?.self)
    }

    /// The code of the error `operation` throws, or `nil` when it succeeds.
    static func code(_ operation: @Sendable () async throws -> Void) async -> BookingError.Code? {
        do {
            try await operation()
            return nil
        } catch let error as BookingError {
            return error.code
        } catch {
            return .storeUnavailable
        }
    }

    @Test("a hold and a booking of different overlapping slots, from two processes at once: never both")
    func holdRacesOverlappingBooking() async throws {
        try await withStores(2) { stores in
            for round in 0..<25 {
                let held = try slot(at: 60 * round)
                let booked = try slot(at: 60 * round + 15)
                let holdRequest = hold(held, token: "r\(round)")
                let bookingRequest = booking(booked)
                async let holding = Self.code { _ = try await stores[0].placeHold(holdRequest) }
                async let booking = Self.code { _ = try await stores[1].insert(bookingRequest) }
                let codes = await [holding, booking]
                #expect(codes.filter { $0 == nil }.count == 1, "round \(round): \(codes)")
                #expect(codes.allSatisfy { $0 == nil || $0 == .slotHeld || $0 == .slotUnavailable }, "\(codes)")
                let window = try TimeSlot(start: held.start, end: booked.end)
                let occupants = try await stores[0].occupants(resource: .default, overlapping: window, now: now)
                #expect(occupants.count == 1, "round \(round)")
            }
        }
    }

    @Test("bookings and holds rushing one slot of 4 seats from two processes: exactly 4 seats taken")
    func seatsUnderARush() async throws {
        let seats = BookingRules(capacity: 4)
        let target = try slot(at: 120)
        try await withStores(2) { stores in
            let codes = await withTaskGroup(of: BookingError.Code?.self) { group in
                for index in 0..<60 {
                    let store = stores[index % 2]
                    let bookingRequest = booking(target, email: "c\(index)@example.com", rules: seats)
                    let holdRequest = hold(target, token: "h\(index)", rules: seats)
                    group.addTask {
                        await Self.code {
                            if index % 3 == 0 {
                                _ = try await store.placeHold(holdRequest)
                            } else {
                                _ = try await store.insert(bookingRequest)
                            }
                        }
                    }
                }
                return await group.reduce(into: [BookingError.Code?]()) { $0.append($1) }
            }
            #expect(codes.filter { $0 == nil }.count == 4)
            #expect(codes.allSatisfy { $0 == nil || $0 == .slotHeld || $0 == .slotUnavailable }, "\(codes)")
            let occupants = try await stores[1].occupants(resource: .default, overlapping: target, now: now)
            #expect(occupants.count == 4)
            #expect(occupants.allSatisfy { $0.slot == target })
        }
    }

    @Test("bookings of many slots of one day from two processes under a limit of 5 a day: exactly 5")
    func dayLimitUnderConcurrency() async throws {
        let day = try TimeSlot(start: now, end: now.addingTimeInterval(86_400))
        let rules = BookingRules(capacity: 2, periodLimits: [PeriodLimit(kind: .day, period: day, limit: 5)])
        let slots = try (0..<20).map { try slot(at: 30 * $0) }
        try await withStores(2) { stores in
            let codes = await withTaskGroup(of: BookingError.Code?.self) { group in
                for index in 0..<40 {
                    let store = stores[index % 2]
                    let request = booking(slots[index % 20], email: "d\(index)@example.com", rules: rules)
                    group.addTask { await Self.code { _ = try await store.insert(request) } }
                }
                return await group.reduce(into: [BookingError.Code?]()) { $0.append($1) }
            }
            #expect(codes.filter { $0 == nil }.count == 5)
            #expect(codes.allSatisfy { $0 == nil || $0 == .bookingLimitReached }, "\(codes)")
            let booked = try await stores[0].appointments()
            #expect(booked.count == 5)
        }
    }

    @Test("a booking that uses a hold racing the hold's release: exactly one of them has it")
    func bookingWithAHoldRacesItsRelease() async throws {
        try await withStores(2) { stores in
            for round in 0..<25 {
                let target = try slot(at: 60 * round)
                let placed = hold(target, token: "x\(round)")
                _ = try await stores[0].placeHold(placed)
                let request = booking(target, hold: placed.tokenHash)
                let now = self.now
                async let released = stores[0].releaseHold(tokenHash: placed.tokenHash, now: now)
                async let booked = Self.code { _ = try await stores[1].insert(request) }
                let (wasReleased, code) = try await (released, booked)
                #expect(
                    wasReleased != (code == nil),
                    "round \(round): released \(wasReleased), booking \(String(describing: code))")
                #expect(code == nil || code == .holdExpired)
                let occupants = try await stores[0].occupants(resource: .default, overlapping: target, now: now)
                #expect(occupants.count == (wasReleased ? 0 : 1))
                #expect(occupants.allSatisfy { !$0.isHold })
            }
        }
    }

    @Test("a replayed booking returns its appointment even once its hold is used and its slot is full")
    func replayAfterTheHoldWasUsed() async throws {
        let target = try slot(at: 60)
        try await withStores(2) { stores in
            let placed = hold(target, token: "replay")
            _ = try await stores[0].placeHold(placed)
            var request = booking(target, hold: placed.tokenHash)
            request.idempotencyKey = "key-1"
            let first = try await stores[0].insert(request)
            guard case .created(let created) = first else {
                Issue.record("the first attempt did not create: \(first)")
                return
            }
            let replay = try await stores[1].insert(request)
            guard case .existing(let existing) = replay else {
                Issue.record("the replay was not answered with the existing appointment: \(replay)")
                return
            }
            #expect(existing.appointment.id == created.appointment.id)
            #expect(try await stores[1].appointments().count == 1)
        }
    }

    @Test("a booking of a full slot is refused at once, even while another transaction holds the slot's lock")
    func fullSlotRefusedWithoutQueueing() async throws {
        let target = try slot(at: 60)
        let lockName = PostgresStore.slotLockName(.default, target.start)
        try await withStores(2) { stores in
            _ = try await stores[0].insert(booking(target))
            let held = try await TableLock.holdAdvisory(lockName, on: stores[1].client)
            let started = ContinuousClock.now
            let code = await Self.code { _ = try await stores[0].insert(booking(target, email: "bo@example.com")) }
            let waited = ContinuousClock.now - started
            await held.release()
            #expect(code == .slotUnavailable)
            // Queued behind the held lock, it would wait for the lock timeout (30 s in these tests): 25 s leaves a
            // loaded machine room.
            #expect(waited < .seconds(25), "answered after \(waited)")
        }
    }

    @Test("a booking past the day's limit is refused at once, even while another transaction holds the day's lock")
    func dayLimitRefusedWithoutQueueing() async throws {
        let day = try TimeSlot(start: now, end: now.addingTimeInterval(86_400))
        let rules = BookingRules(capacity: 1, periodLimits: [PeriodLimit(kind: .day, period: day, limit: 1)])
        let lockName = "day/\(ResourceID.default.rawValue)/\(day.start.millisecondsSince1970)"
        try await withStores(2) { stores in
            _ = try await stores[0].insert(booking(try slot(at: 60), rules: rules))
            let held = try await TableLock.holdAdvisory(lockName, on: stores[1].client)
            let started = ContinuousClock.now
            let code = await Self.code {
                _ = try await stores[0].insert(booking(try slot(at: 120), email: "bo@example.com", rules: rules))
            }
            let waited = ContinuousClock.now - started
            await held.release()
            #expect(code == .bookingLimitReached)
            // Queued behind the held lock, it would wait for the lock timeout (30 s in these tests): 25 s leaves a
            // loaded machine room.
            #expect(waited < .seconds(25), "answered after \(waited)")
        }
    }

    @Test(
        "a booking of a slot with a seat taken waits for another taker of the slot to finish (a busy lock is never a refusal), then books"
    )
    func bookingWaitsForTheSlotLock() async throws {
        let target = try slot(at: 60)
        let lockName = PostgresStore.slotLockName(.default, target.start)
        let twoSeats = BookingRules(capacity: 2)
        try await withStores(2) { stores in
            _ = try await stores[0].insert(booking(target, rules: twoSeats))
            let held = try await TableLock.holdAdvisory(lockName, on: stores[1].client)
            let releaser = Task {
                try? await Task.sleep(for: .milliseconds(500))
                await held.release()
            }
            let started = ContinuousClock.now
            let outcome = try await stores[0].insert(booking(target, email: "bo@example.com", rules: twoSeats))
            let waited = ContinuousClock.now - started
            await releaser.value
            guard case .created = outcome else {
                Issue.record("expected a new booking, got \(outcome)")
                return
            }
            #expect(waited >= .milliseconds(400), "booked after \(waited), before the lock was released")
        }
    }

    @Test(
        "the booking procedure reads under the slot's lock in a snapshot of its own, even from a REPEATABLE READ session: a seat committed while it waited is counted"
    )
    func procedureCountsSeatsCommittedWhileItWaited() async throws {
        let target = try slot(at: 60)
        let lockName = PostgresStore.slotLockName(.default, target.start)
        var values = ClaimValues()
        values.lockNames = ["resource/default"]
        values.lockShared = [true]
        values.slotLock = lockName
        values.resource = "default"
        values.capacity = 1
        values.slotStart = PostgresInstant(target.start)
        values.slotEnd = PostgresInstant(target.end)
        values.occupiedStart = PostgresInstant(target.start)
        values.occupiedEnd = PostgresInstant(target.end)
        values.now = PostgresInstant(now)
        values.customerName = "Ada"
        values.customerEmail = "ada@example.com"
        values.cancelTokenHash = String(repeating: "a", count: 64)
        values.requestFingerprint = "f"
        let call = values
        try await withStores(2) { stores in
            let logger = PostgresTestDatabase.logger
            // Another taker holds the slot's lock and has written a seat it has not committed yet.
            let (commit, signalCommit) = AsyncStream.makeStream(of: Void.self)
            let (written, signalWritten) = AsyncStream.makeStream(of: Void.self)
            let (start, end) = (PostgresInstant(target.start), PostgresInstant(target.end))
            let taker = Task {
                defer { signalWritten.finish() }
                try await stores[1].client.withConnection { connection in
                    try await connection.query("BEGIN", logger: logger)
                    try await connection.query(
                        "SELECT pg_advisory_xact_lock(hashtextextended(\(lockName), 0))", logger: logger)
                    try await connection.query(
                        """
                        INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end,
                            customer_name, customer_email, status, cancel_token_hash, request_fingerprint, created_at,
                            updated_at)
                        VALUES ('default', \(start), \(end), \(start), \(end), 'Bo', 'bo@example.com', 'booked',
                            \(String(repeating: "b", count: 64)), 'f', now(), now())
                        """, logger: logger)
                    signalWritten.yield()
                    for await _ in commit { break }
                    try await connection.query("COMMIT", logger: logger)
                }
            }
            for await _ in written { break }
            let booker = Task {
                try await stores[0].client.withConnection { connection -> Bool? in
                    try await connection.query("SET default_transaction_isolation = 'repeatable read'", logger: logger)
                    let created = try await Self.callInsertProcedure(call, on: connection)
                    try await connection.query("RESET default_transaction_isolation", logger: logger)
                    return created
                }
            }
            // The booking queues for the slot's lock (its first look saw the seat uncommitted), then the seat commits.
            var queued = false
            for _ in 0..<3000 where !queued {
                let waiting = try await stores[1].client.query(
                    """
                    SELECT count(*) FROM pg_locks
                    WHERE locktype = 'advisory' AND NOT granted
                        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                    """, logger: logger
                ).collect().first?.decode(Int.self)
                queued = (waiting ?? 0) > 0
                if !queued { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(queued, "the booking never queued for the slot's lock")
            signalCommit.yield()
            signalCommit.finish()
            try await taker.value
            let created = try await booker.value
            #expect(created == nil, "the seat committed while the booking waited was not counted")
            let seats = try await stores[0].appointments().filter { $0.slot == target && $0.status == .booked }
            #expect(seats.count == 1)
        }
    }

    @Test(
        "a database that defaults to SERIALIZABLE: bookings still run at READ COMMITTED, and the booking procedure refuses to run inside a transaction block"
    )
    func isolationLevel() async throws {
        let configuration = try await PostgresTestDatabase.create()
        let migrated = try await PostgresTestDatabase.opening(configuration) { try await RunningStore(configuration) }
        var fresh: RunningStore?
        do {
            try await migrated.store.client.query(
                PostgresQuery(
                    unsafeSQL:
                        "ALTER DATABASE \(configuration.database) SET default_transaction_isolation = 'serializable'"),
                logger: PostgresTestDatabase.logger)
            // A store opened afterwards: its sessions start with the database's new default.
            let store = try await RunningStore(configuration, migrate: false)
            fresh = store
            // The store's sessions say READ COMMITTED themselves.
            let level = try await store.store.client.query(
                "SHOW transaction_isolation", logger: PostgresTestDatabase.logger
            ).collect().first?.decode(String.self)
            #expect(level == "read committed")
            let outcome = try await store.store.insert(booking(try slot(at: 0)))
            if case .created = outcome {} else { Issue.record("the booking was not created: \(outcome)") }
            func values(at minutes: Int) throws -> ClaimValues {
                var values = ClaimValues()
                values.lockNames = ["resource/default"]
                values.lockShared = [true]
                values.resource = "default"
                values.capacity = 1
                let later = try slot(at: minutes)
                values.slotStart = PostgresInstant(later.start)
                values.slotEnd = PostgresInstant(later.end)
                values.occupiedStart = PostgresInstant(later.start)
                values.occupiedEnd = PostgresInstant(later.end)
                values.now = PostgresInstant(Date())
                values.customerName = "Ada"
                values.customerEmail = "ada@example.com"
                values.cancelTokenHash = String(repeating: "a", count: 64)
                values.requestFingerprint = "test"
                return values
            }
            // With and without the first try: a booking from a SERIALIZABLE session is made, and a call inside a
            // caller's block fails and writes nothing, whether it would book (slot 120 or 240) or be refused (slot 0,
            // booked above).
            for (offset, firstSeat) in [(0, false), (120, true)] {
                var inSerializableSession = try values(at: 60 + offset)
                var inBlock = try values(at: 120 + offset)
                var refusedInBlock = try values(at: 0)
                inSerializableSession.firstSeat = firstSeat
                inBlock.firstSeat = firstSeat
                refusedInBlock.firstSeat = firstSeat
                let (created, states) = try await store.store.client.withConnection { connection in
                    let logger = PostgresTestDatabase.logger
                    // The procedure runs at READ COMMITTED, whatever the session's default.
                    try await connection.query("SET default_transaction_isolation = 'serializable'", logger: logger)
                    let created = try await Self.callInsertProcedure(inSerializableSession, on: connection)
                    try await connection.query("RESET default_transaction_isolation", logger: logger)
                    // The procedure commits its own transaction: inside a caller's block it fails.
                    var states: [String?] = []
                    for call in [inBlock, refusedInBlock] {
                        try await connection.query("BEGIN", logger: logger)
                        do {
                            let answer = try await Self.callInsertProcedure(call, on: connection)
                            Issue.record("the procedure ran inside a transaction block: \(String(describing: answer))")
                            states.append(nil)
                        } catch {
                            states.append(PostgresStore.sqlState(of: error))
                        }
                        try await connection.query("ROLLBACK", logger: logger)
                    }
                    return (created, states)
                }
                #expect(created == true, "first try: \(firstSeat)")
                #expect(states == ["2D000", "2D000"], "first try: \(firstSeat)")
            }
            #expect(try await store.store.appointments().count == 3)
        } catch {
            Issue.record("\(error)")
        }
        await fresh?.stop()
        await migrated.stop()
        await PostgresTestDatabase.drop(configuration)
    }

    @Test("the booking procedure the pieces make now is the one migration 12 created")
    func insertProcedurePinned() throws {
        let appointmentColumns = PostgresStore.appointmentColumns.split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(InsertProcedure.answerColumns.map(\.name) == appointmentColumns + ["created"])
        #expect(
            InsertProcedure.definition == InsertProcedure.version5,
            """
            the SQL that booking_insert_v5 embeds changed: databases migrated earlier keep version5, so add a \
            migration creating booking_insert_v6 from InsertProcedure.definition, call it, and leave version5 as it is
            """)
    }
}
