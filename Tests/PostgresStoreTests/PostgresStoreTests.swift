import BookingDomain
import Foundation
import InMemoryLogging
import Logging
import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStore

@Suite("PostgreSQL store")
struct PostgresStoreTests {
    let now = Date(millisecondsSince1970: 1_803_801_600_000)

    func draft(at minutes: Int, resource: ResourceID = .default, key: String? = nil) throws -> NewAppointment {
        let start = now.addingTimeInterval(Double(minutes) * 60)
        let slot = try TimeSlot(start: start, end: start.addingTimeInterval(1800))
        return NewAppointment(
            resource: resource, slot: slot, occupied: slot, customerName: "Ada", customerEmail: "ada@example.com",
            note: nil,
            cancelTokenHash: String(repeating: "c", count: 64), idempotencyKey: key, requestFingerprint: "f", now: now)
    }

    @Test("two independent clients booking one slot concurrently: exactly one wins")
    func twoClientsOneSlot() async throws {
        let new = try draft(at: 60)
        try await withStores(2) { stores in
            let codes = await withTaskGroup(of: BookingError.Code?.self) { group in
                for index in 0..<200 {
                    let store = stores[index % 2]
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
            #expect(codes.filter { $0 == nil }.count == 1)
            #expect(codes.compactMap { $0 }.allSatisfy { $0 == .slotUnavailable })
            let stored = try await stores[1].appointments()
            #expect(stored.count == 1)
        }
    }

    @Test("two dispatchers on two clients claiming concurrently never share a notification")
    func twoClientsClaim() async throws {
        let drafts = try (0..<100).map { try draft(at: 30 * $0) }
        let now = self.now
        try await withStores(2) { stores in
            for new in drafts { _ = try await stores[0].insert(new) }
            let claimed = await withTaskGroup(of: [Int64].self) { group in
                for worker in 0..<10 {
                    let store = stores[worker % 2]
                    group.addTask {
                        var mine: [Int64] = []
                        while let batch = try? await store.claimNotifications(
                            NotificationClaim(
                                owner: "w\(worker)", limit: 3, now: now, leaseExpiresAt: now.addingTimeInterval(60))),
                            !batch.isEmpty
                        {
                            mine += batch.map(\.id)
                        }
                        return mine
                    }
                }
                return await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            #expect(claimed.count == 100)
            #expect(Set(claimed).count == 100)
        }
    }

    @Test("migrations run twice and concurrently from two clients: one schema, no error")
    func concurrentMigrations() async throws {
        let new = try draft(at: 60)
        try await withStores(2, migrate: false) { stores in
            async let first = stores[0].applyPendingMigrations()
            async let second = stores[1].applyPendingMigrations()
            let applied = try await [first, second]
            #expect(applied.sorted { $0.count < $1.count } == [[], Array(1...13)])
            let again = try await stores[0].applyPendingMigrations()
            let recorded = try await stores[1].appliedMigrations()
            #expect(again == [])
            #expect(recorded == Array(1...13))
            _ = try await stores[0].insert(new)
            let stored = try await stores[1].appointments()
            #expect(stored.count == 1)
        }
    }

    @Test("operations called before run() wait for it, without PostgresNIO's warning; never run, they time out")
    func operationsBeforeRun() async throws {
        let configuration = try await PostgresTestDatabase.create(poolSize: 2)
        defer { Task { [configuration] in await PostgresTestDatabase.drop(configuration) } }
        let log = InMemoryLogHandler()
        let logger = Logger(label: "before-run") { _ in log }

        // Never run: the wait for a connection runs out, as any wait does.
        var shortWait = configuration
        shortWait.connectionWaitTimeout = .seconds(1)
        let neverRun = PostgresStore(configuration: shortWait, logger: logger)
        let started = ContinuousClock.now
        let error = await #expect(throws: BookingError.self) { try await neverRun.checkHealth() }
        #expect(error?.code == .storeUnavailable)
        // The 1 s wait, and seconds for a busy machine: never a hang.
        #expect(ContinuousClock.now - started < .seconds(15))

        // Asked for before run(), as a server's migrations are: done once the store runs (the tests' long wait for
        // a connection leaves room for a machine busy with the other suites).
        let store = PostgresStore(configuration: configuration, logger: logger)
        let migration = Task { try await store.migrate() }
        try await Task.sleep(for: .milliseconds(300))
        let runner = Task { await store.run() }
        try await migration.value
        _ = try await store.insert(draft(at: 60))
        #expect(try await store.appointments().count == 1)
        runner.cancel()
        await runner.value
        let warnings = log.entries.filter { $0.level >= .warning }.map(\.message.description)
        #expect(warnings == [])
    }

    @Test("migrate() on a current schema only reads: a role that may not create tables can call it")
    func migrateByAnUnprivilegedRole() async throws {
        let role = "booking_app_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await withStores(1) { stores in
            let owner = stores[0]
            for statement in [
                "CREATE ROLE \(role) LOGIN",
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO \(role)",
                "GRANT DELETE ON slot_holds TO \(role)",
                "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \(role)",
            ] {
                try await owner.client.query(PostgresQuery(unsafeSQL: statement), logger: PostgresTestDatabase.logger)
            }
            var configuration = owner.configuration
            configuration.username = role
            let application = try await RunningStore(configuration, migrate: false)
            do {
                try await application.store.migrate()
                _ = try await application.store.insert(try draft(at: 60))
                #expect(try await owner.appointments().count == 1)
            } catch {
                await application.stop()
                throw error
            }
            await application.stop()
        }
        _ = try? await PostgresTestDatabase.admin.get().query(
            PostgresQuery(unsafeSQL: "DROP ROLE IF EXISTS \(role)"), logger: PostgresTestDatabase.logger)
    }

    @Test("the server stopped mid-test: operations fail with storeUnavailable, then work again")
    func serverRestart() async throws {
        let cluster = try await ThrowawayCluster()
        defer { cluster.destroy() }
        var configuration = try PostgresStore.Configuration(url: cluster.url + "?sslmode=disable")
        // Room for a first connection on a machine busy with the other tests; a stopped server still answers
        // within the wait and 15 s more (the watchdog's checks, a busy machine's late wake-ups).
        configuration.connectionWaitTimeout = .seconds(5)
        configuration.connectTimeout = .seconds(1)
        let running = try await RunningStore(configuration, migrate: false)
        defer { Task { await running.stop() } }
        // Warm the pool first: on two cores busy with the other tests, a first connection may take longer than
        // the wait under test (the migration and the keyed first booking are safe to repeat).
        let first = try draft(at: 60, key: "before-stop")
        var warmedUp: InsertOutcome?
        for _ in 0..<15 where warmedUp == nil {
            guard (try? await running.store.migrate()) != nil else { continue }
            warmedUp = try? await running.store.insert(first)
        }
        let booked = try #require(warmedUp, "the store never answered before the stop")

        try await cluster.stop()
        let started = ContinuousClock.now
        let down = await #expect(throws: BookingError.self) { try await running.store.appointments() }
        #expect(down?.code == .storeUnavailable)
        #expect(ContinuousClock.now - started < configuration.connectionWaitTimeout + .seconds(15))
        let health = await #expect(throws: BookingError.self) { try await running.store.checkHealth() }
        #expect(health?.code == .storeUnavailable)
        #expect(health?.description.contains("SELECT") == false)

        try await cluster.start()
        // The pool reconnects at its own pace (a busy machine, its back-off after the failed attempts): reads and
        // bookings work again within 60 s. The booking carries a key, so a retry after an unknown outcome is safe.
        let again = try draft(at: 120, key: "after-restart")
        let deadline = ContinuousClock.now + .seconds(60)
        var recovered: [Appointment] = []
        var bookedAgain = false
        while ContinuousClock.now < deadline && (recovered.isEmpty || !bookedAgain) {
            if recovered.isEmpty { recovered = (try? await running.store.appointments()) ?? [] }
            if !recovered.isEmpty { bookedAgain = (try? await running.store.insert(again)) != nil }
            if recovered.isEmpty || !bookedAgain { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(recovered.map(\.id) == [booked.record.appointment.id])
        #expect(bookedAgain, "no booking succeeded within 60 s of the restart")
        #expect(try await running.store.appointments().count == 2)
        await cluster.tearDown()  // awaited here, so the `defer` has nothing left to wait for
    }

    @Test(
        "a booking wakes the dispatchers of its own process at once, and those of another process through NOTIFY",
        arguments: [false, true])
    func bookingWakesDispatchers(otherProcess: Bool) async throws {
        let new = try draft(at: otherProcess ? 60 : 90)
        try await withStores(2) { stores in
            // Two store instances share nothing in memory: only a NOTIFY reaches the second.
            let listening = stores[otherProcess ? 1 : 0]
            let wakeUps = listening.outboxWakeUps()
            guard try await listeners(2, asking: stores[0]) else {
                Issue.record("the two stores did not both LISTEN within 60 s")
                return
            }
            let woke = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    for await _ in wakeUps { return true }
                    return false
                }
                group.addTask {
                    _ = try? await stores[0].insert(new)
                    try? await Task.sleep(for: .seconds(10))
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            #expect(woke)
        }
    }

    /// Whether `count` connections to the test's database have sent `LISTEN` and wait idle (a NOTIFY before that
    /// reaches nobody, and is not replayed), waiting for them at most 60 s.
    private func listeners(_ count: Int, asking store: PostgresStore) async throws -> Bool {
        func listening() async -> Int {
            let answer = try? await store.client.query(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND state = 'idle'
                """, logger: PostgresTestDatabase.logger
            ).collect().first?.decode(Int.self)
            return answer ?? 0
        }
        var seen = 0
        try await eventually {
            seen = await listening()
            return seen >= count
        }
        return seen >= count
    }

    @Test("a store ignores the echo of its own NOTIFY: its dispatchers were woken directly")
    func ownNotifyIgnored() async throws {
        try await withStores(1) { stores in
            let wakeUps = stores[0].outboxWakeUps()
            // Without the listener, the echo this test expects the store to ignore would never come back.
            guard try await listeners(1, asking: stores[0]) else {
                Issue.record("the store did not LISTEN within 60 s")
                return
            }
            _ = try await stores[0].insert(try draft(at: 150))
            // The direct wake-up, then nothing: the NOTIFY this store sent comes back to its own LISTEN.
            let count = await withTaskGroup(of: Int.self) { group in
                group.addTask {
                    var count = 0
                    for await _ in wakeUps { count += 1 }
                    return count
                }
                try? await Task.sleep(for: .seconds(2))
                group.cancelAll()
                return await group.next() ?? 0
            }
            #expect(count == 1)
        }
    }

    @Test("a booking whose commit fails is an error, never a booking: the procedure answers after its COMMIT")
    func commitFailureIsNoBooking() async throws {
        try await withStores(1) { stores in
            let logger = PostgresTestDatabase.logger
            // A deferred trigger raises only when the transaction commits, after the booking's rows were written.
            try await stores[0].client.query(
                """
                CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the commit fails'; END $$
                """, logger: logger)
            try await stores[0].client.query(
                """
                CREATE CONSTRAINT TRIGGER appointments_fail_at_commit AFTER INSERT ON appointments
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit()
                """, logger: logger)
            let code: BookingError.Code?
            do {
                _ = try await stores[0].insert(try draft(at: 60))
                code = nil
            } catch let error as BookingError {
                code = error.code
            }
            #expect(code == .storeUnavailable)
            #expect(try await stores[0].appointments().isEmpty)
        }
    }

    @Test(
        "a statement timeout that falls due while the booking procedure commits is raised after the commit: the stored booking is the answer"
    )
    func cancelledAfterCommitIsTheBooking() async throws {
        try await withStores(1) { stores in
            // The real procedure, called by one that raises 57014 once it has returned (committed).
            try await wrapInsertProcedure(
                of: stores[0], before: "",
                after: "RAISE EXCEPTION 'canceling statement due to statement timeout' USING ERRCODE = '57014';")
            let outcome = try await stores[0].insert(try draft(at: 60))
            guard case .created(let record) = outcome else {
                Issue.record("expected the stored booking, got \(outcome)")
                return
            }
            #expect(try await stores[0].appointments().map(\.id) == [record.appointment.id])
            // A booking the procedure refused is no booking of this request: the error stands.
            var refused = try draft(at: 60)
            refused.cancelTokenHash = String(repeating: "d", count: 64)
            let taken = refused
            let error = await #expect(throws: BookingError.self) { try await stores[0].insert(taken) }
            #expect(error?.code == .storeUnavailable)
            #expect(try await stores[0].appointments().count == 1)
            // Under an idempotency key, the value found may be an earlier call's: it is answered as a replay.
            var keyed = try draft(at: 120)
            keyed.idempotencyKey = "key-after-commit"
            keyed.cancelTokenHash = String(repeating: "e", count: 64)
            let withKey = keyed
            let first = try await stores[0].insert(withKey)
            let again = try await stores[0].insert(withKey)
            guard case .existing(let firstRecord) = first, case .existing(let againRecord) = again else {
                Issue.record("expected replays, got \(first) and \(again)")
                return
            }
            #expect(firstRecord.appointment.id == againRecord.appointment.id)
            #expect(try await stores[0].appointments().count == 2)
        }
    }

    @Test(
        "a booking call whose preparation failed on the only connection is not failed again: the connection is replaced and the next booking books"
    )
    func failedCallPreparationIsCleared() async throws {
        try await withStoreAndAdmin(poolSize: 1) { store, admin in
            let logger = PostgresTestDatabase.logger
            _ = try await store.appointments()  // the pool's one connection is open
            // Both procedures a booking without a key calls: the shared call first (whose absence turns the shared
            // calls off for this store), then its own, whose failed preparation is the one cleared below.
            for (name, away) in [
                (InsertProcedure.name, "booking_insert_away"), (FirstSeatsProcedure.name, "booking_first_seats_away"),
            ] {
                try await admin.client.query(
                    PostgresQuery(unsafeSQL: "ALTER PROCEDURE \(name) RENAME TO \(away)"), logger: logger)
            }
            let failed = await #expect(throws: BookingError.self) { try await store.insert(try draft(at: 60)) }
            #expect(failed?.code == .storeUnavailable)
            for (name, away) in [
                (InsertProcedure.name, "booking_insert_away"), (FirstSeatsProcedure.name, "booking_first_seats_away"),
            ] {
                try await admin.client.query(
                    PostgresQuery(unsafeSQL: "ALTER PROCEDURE \(away) RENAME TO \(name)"), logger: logger)
            }
            guard case .created = try await store.insert(try draft(at: 60)) else {
                Issue.record("the booking after the procedure came back was not created")
                return
            }
            #expect(try await store.appointments().count == 1)
        }
    }

    @Test(
        "a booking whose every call meets another taker at an index is answered by what stands in the way: the booked slot, or storeUnavailable when nothing does"
    )
    func conflictsEveryCall() async throws {
        try await withStores(1) { stores in
            let store = stores[0]
            let logger = PostgresTestDatabase.logger
            _ = try await store.insert(try draft(at: 60))
            try await store.client.query("CREATE SEQUENCE booking_calls", logger: logger)
            try await wrapInsertProcedure(
                of: store, before: "PERFORM nextval('booking_calls'); RAISE unique_violation USING MESSAGE = 'taken';",
                after: "")
            func calls() async throws -> Int? {
                try await store.client.query("SELECT last_value FROM booking_calls", logger: logger).collect().first?
                    .decode(Int.self)
            }
            let taken = await #expect(throws: BookingError.self) {
                try await store.insert(try draft(at: 60, key: "k1"))
            }
            #expect(taken?.code == .slotUnavailable)
            #expect(try await calls() == 3)
            let free = await #expect(throws: BookingError.self) { try await store.insert(try draft(at: 120)) }
            #expect(free?.code == .storeUnavailable)
            #expect(free?.message.contains("kept meeting conflicting transactions") == true)
            // Without a key: the call together, then three of its own.
            #expect(try await calls() == 7)
            #expect(try await store.appointments().count == 1)
        }
    }

    /// Replaces the booking procedures (`InsertProcedure.name`, and `FirstSeatsProcedure.name`, which bookings
    /// without a key call first) with procedures that run `before`, call the real one (which commits), then run
    /// `after`: the store's calls go through them.
    private func wrapInsertProcedure(of store: PostgresStore, before: String, after: String) async throws {
        let logger = PostgresTestDatabase.logger
        try await store.client.query(
            PostgresQuery(unsafeSQL: "ALTER PROCEDURE \(InsertProcedure.name) RENAME TO booking_insert_wrapped"),
            logger: logger)
        let forwarded =
            InsertProcedure.arguments.map(InsertProcedure.argumentName) + InsertProcedure.answerColumns.map(\.name)
        try await store.client.query(
            PostgresQuery(
                unsafeSQL: """
                    CREATE PROCEDURE \(InsertProcedure.name)(\(InsertProcedure.parameterList)) LANGUAGE plpgsql AS $$
                    BEGIN
                        \(before)
                        CALL booking_insert_wrapped(\(forwarded.map { "\($0) => \($0)" }.joined(separator: ", ")));
                        \(after)
                    END $$
                    """), logger: logger)
        try await PostgresFirstSeatBatchTests.wrapFirstSeats(of: store, before: before, after: after)
    }

    /// A backend ending itself the way a fast shutdown ends it (SIGTERM, SQLSTATE 57P01).
    private static let terminateOwnBackend = "PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);"

    @Test(
        "a connection the server ends after the booking procedure committed: the booking, read on another connection, is the answer"
    )
    func connectionEndedAfterCommitIsTheBooking() async throws {
        try await withStores(1) { stores in
            try await wrapInsertProcedure(of: stores[0], before: "", after: Self.terminateOwnBackend)
            let outcome = try await stores[0].insert(try draft(at: 60))
            guard case .created(let record) = outcome else {
                Issue.record("expected the stored booking, got \(outcome)")
                return
            }
            #expect(try await stores[0].appointments().map(\.id) == [record.appointment.id])
            // Under an idempotency key, it is answered as a replay, as after a statement timeout.
            var keyed = try draft(at: 120)
            keyed.idempotencyKey = "key-connection-ended"
            keyed.cancelTokenHash = String(repeating: "e", count: 64)
            guard case .existing(let replay) = try await stores[0].insert(keyed) else {
                Issue.record("expected the keyed booking answered as a replay")
                return
            }
            #expect(replay.idempotencyKey == "key-connection-ended")
            #expect(try await stores[0].appointments().count == 2)
        }
    }

    @Test(
        "a connection the server ends before the booking procedure committed: 503 saying the outcome is unknown, nothing stored"
    )
    func connectionEndedBeforeCommitIsUnknown() async throws {
        try await withStores(1) { stores in
            try await wrapInsertProcedure(of: stores[0], before: Self.terminateOwnBackend, after: "")
            var keyed = try draft(at: 60)
            keyed.idempotencyKey = "key-connection-ended"
            let new = keyed
            let error = await #expect(throws: BookingError.self) { try await stores[0].insert(new) }
            #expect(error?.code == .storeUnavailable)
            #expect(error?.message.contains("whether it was made is unknown") == true)
            #expect(error?.message.contains("a retry with the same idempotency key answers it") == true)
            #expect(try await stores[0].appointments().isEmpty)
            #expect(try await stores[0].notifications(appointmentID: nil).isEmpty)
            // Without a key the message promises no retry.
            let plain = try draft(at: 120)
            let unkeyed = await #expect(throws: BookingError.self) { try await stores[0].insert(plain) }
            #expect(unkeyed?.message.contains("whether it was made is unknown") == true)
            #expect(unkeyed?.message.contains("idempotency key") == false)
            #expect(try await stores[0].appointments().isEmpty)
        }
    }

    @Test(
        "a lost call's booking is looked for only before its cutoff: the connection wait plus 200 ms from the booking's start"
    )
    func lostCallLookUpKeepsTheBound() async throws {
        try await withStores(1) { stores in
            let new = try draft(at: 60)
            guard case .created(let stored) = try await stores[0].insert(new) else {
                Issue.record("expected the booking")
                return
            }
            // Started just now: the look-up runs and finds it.
            let found = try await stores[0].outcome(ofLostCall: new, startedAt: .now)
            guard case .created(let record) = found else {
                Issue.record("expected the stored booking, got \(found)")
                return
            }
            #expect(record.appointment.id == stored.appointment.id)
            // Started longer ago than the bound: no look-up, the outcome is unknown.
            let bound = stores[0].configuration.connectionWaitTimeout + PostgresStore.lostCallAllowance
            let late = await #expect(throws: BookingError.self) {
                try await stores[0].outcome(ofLostCall: new, startedAt: .now - bound)
            }
            #expect(late?.code == .storeUnavailable)
            #expect(late?.message.contains("whether it was made is unknown") == true)
        }
    }

    @Test("a note with a NUL character is invalid input and stores nothing")
    func nulCharacter() async throws {
        var withNUL = try draft(at: 60)
        withNUL.note = "before\u{0}after"
        let new = withNUL
        try await withStores(1) { stores in
            let error = await #expect(throws: BookingError.self) { try await stores[0].insert(new) }
            #expect(error?.code == .invalidInput)
            #expect(error?.fieldErrors["appointment"] == "contains characters the database cannot store")
            #expect(error?.description.contains("before") == false)
            let appointments = try await stores[0].appointments()
            let notifications = try await stores[0].notifications(appointmentID: nil)
            #expect(appointments.isEmpty)
            #expect(notifications.isEmpty)
        }
    }

    @Test("an instant beyond TIMESTAMPTZ's range is written as PostgreSQL's infinity, never a trap, and reads back")
    func instantsAtTheEnds() async throws {
        let infinity = Date(timeIntervalSince1970: .infinity)
        #expect(PostgresInstant(infinity).microsecondsSincePostgresEpoch == .max)
        #expect(PostgresInstant(Date(timeIntervalSince1970: -.infinity)).microsecondsSincePostgresEpoch == .min)
        #expect(PostgresInstant(Date(timeIntervalSince1970: 1e300)).microsecondsSincePostgresEpoch == .max)
        // Within Int64 but outside TIMESTAMPTZ (about 29,700 BC; 294277-01-01, its end): PostgreSQL's infinities too.
        #expect(PostgresInstant(Date(timeIntervalSince1970: -1e12)).microsecondsSincePostgresEpoch == .min)
        #expect(PostgresInstant(Date(timeIntervalSince1970: 9_224_318_016_000)).microsecondsSincePostgresEpoch == .max)
        #expect(
            PostgresInstant(Date(timeIntervalSince1970: 9_224_318_015_999)).microsecondsSincePostgresEpoch
                == 9_223_371_331_199_000_000, "the last second before the end is written as it is")
        #expect(
            PostgresStore.map(ConnectionLease.WaitTimedOut(wait: .nanoseconds(1_999_935_459))).message
                == "The booking store is unavailable: no database connection within 2.0 seconds.",
            "the wait left of a deadline, in tenths of a second")
        #expect(
            PostgresStore.map(ConnectionLease.WaitTimedOut(wait: .milliseconds(250))).message.hasSuffix(
                "within 0.3 seconds."))
        // What ConnectionProbe explains: the database not reached at all, and nothing the server said.
        struct Unrelated: Error {}
        for unreached in [
            PostgresStore.map(ConnectionLease.WaitTimedOut(wait: .seconds(2))),
            PostgresStore.map(ConnectionLease.StaleConnection()), PostgresStore.map(Unrelated()),
        ] {
            #expect(PostgresStore.isUnreachable(unreached), "\(unreached)")
        }
        for reached in [
            PostgresStore.map(ConnectionLease.ConnectionLost(after: .seconds(1))),
            PostgresStore.map(CancellationError()),
            BookingError.storeUnavailable("the database was migrated by a newer version of swift-booking (schema 99)"),
            BookingError.slotUnavailable,
        ] {
            #expect(!PostgresStore.isUnreachable(reached), "\(reached)")
        }
        #expect(PostgresInstant(millisecondsSince1970: 946_684_800_001).microsecondsSincePostgresEpoch == 1000)
        let new = try draft(at: 60)
        try await withStores(1) { stores in
            let booked = try await stores[0].insert(new).record.appointment
            let everything = try TimeSlot(start: Date(timeIntervalSince1970: -.infinity), end: infinity)
            let occupants = try await stores[0].occupants(resource: .default, overlapping: everything, now: infinity)
            #expect(occupants.map(\.slot) == [new.slot])
            let ancient = Date(timeIntervalSince1970: -1e12)
            #expect(try await stores[0].appointments(of: .default, startingFrom: ancient).map(\.id) == [booked.id])
            let finished = try await stores[0].finish(outcomes: [1: .sent(at: infinity)], owner: "nobody")
            #expect(finished.isEmpty, "no lease of that owner: nothing recorded")
        }
    }

    @Test(
        "a schema that lost its no-overlap constraint or its booking procedure, migrations recorded, is refused")
    func damagedSchema() async throws {
        try await withStores(1) { stores in
            try await stores[0].migrate()  // a whole schema passes
            _ = try await stores[0].client.query(
                "ALTER TABLE appointments DROP CONSTRAINT appointments_no_overlap", logger: PostgresTestDatabase.logger)
            _ = try await stores[0].client.query(
                "DROP PROCEDURE booking_insert_v5", logger: PostgresTestDatabase.logger)
            let error = await #expect(throws: BookingError.self) { try await stores[0].migrate() }
            #expect(error?.code == .storeUnavailable)
            #expect(
                error?.message.contains(
                    "its schema is damaged: constraint appointments_no_overlap, procedure booking_insert_v5 missing"
                )
                    == true, "\(error?.message ?? "")")
        }
    }

    @Test("a name the database's encoding cannot hold (LATIN1 has no emoji) is invalid input and stores nothing")
    func untranslatableCharacter() async throws {
        var withEmoji = try draft(at: 60)
        withEmoji.customerName = "Ada \u{1F511}"
        let new = withEmoji
        var latin1 = try draft(at: 120)
        latin1.customerName = "Zoë"
        let storable = latin1
        try await withStores(1, encoding: "LATIN1") { stores in
            let error = await #expect(throws: BookingError.self) { try await stores[0].insert(new) }
            #expect(error?.code == .invalidInput)
            #expect(error?.fieldErrors["appointment"] == "contains characters the database cannot store")
            let appointments = try await stores[0].appointments()
            #expect(appointments.isEmpty)
            // Characters LATIN1 has are stored as LATIN1 characters (3, not the 4 bytes of UTF-8 "Zoë")
            // and read back unchanged.
            _ = try await stores[0].insert(storable)
            let names = try await stores[0].appointments().map(\.customerName)
            #expect(names == ["Zoë"])
            var lengths: [Int32] = []
            let rows = try await stores[0].client.query(
                "SELECT char_length(customer_name)::int4 FROM appointments", logger: PostgresTestDatabase.logger)
            for try await length in rows.decode(Int32.self) { lengths.append(length) }
            #expect(lengths == [3])
        }
    }

    @Test("postgres URLs parse into a configuration; bad ones are refused with the setting named")
    func urls() throws {
        let configuration = try PostgresStore.Configuration(
            url: "postgres://booking:s%40cret@db.example:6543/bookings?sslmode=require")
        #expect(configuration.host == "db.example")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "booking")
        #expect(configuration.password == "s@cret")
        #expect(configuration.database == "bookings")
        #expect(configuration.tls == .require)
        #expect(try PostgresStore.Configuration(url: "postgresql://ann@localhost").database == "ann")
        for bad in ["mysql://x@y/z", "postgres://", "postgres://u@h/db?sslmode=maybe", "not a url"] {
            let error = #expect(throws: BookingError.self) { try PostgresStore.Configuration(url: bad) }
            #expect(error?.fieldErrors["store"] != nil)
        }
    }

    @Test("migration 2 turns a plain idempotency key into exactly the form the service looks up")
    func storedKeyFormMatches() async throws {
        try await withStores(1) { stores in
            for key in ["fixture-key", "order-7", "ünïcödé-🔑", "\"quoted\""] {
                let rows = try await stores[0].client.query(
                    "SELECT encode(sha256(convert_to('idempotency-key:' || \(key), 'UTF8')), 'hex')",
                    logger: PostgresTestDatabase.logger)
                var computed: [String] = []
                for try await value in rows.decode(String.self) { computed.append(value) }
                #expect(computed == [AppointmentRecord.storedIdempotencyKey(for: key)], "\(key)")
            }
        }
    }
}
