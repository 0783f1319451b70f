import BookingDomain
import Foundation
import PostgresNIO
import Synchronization
import TestSupport
import Testing

@testable import PostgresStore

/// The first tries of bookings that arrive together, made in one call of `booking_first_seats_v2` and one commit.
@Suite("PostgreSQL store: first seats tried together")
struct PostgresFirstSeatBatchTests {
    let now = Date(millisecondsSince1970: 1_803_801_600_000)

    func slot(at minutes: Int, length: Int = 30) throws -> TimeSlot {
        let start = now.addingTimeInterval(Double(minutes) * 60)
        return try TimeSlot(start: start, end: start.addingTimeInterval(Double(length) * 60))
    }

    func booking(_ slot: TimeSlot, email: String, note: String? = nil, reminders: Int = 0) -> NewAppointment {
        NewAppointment(
            resource: .default, slot: slot, occupied: slot, customerName: "Ada", customerEmail: email, note: note,
            cancelTokenHash: Self.tokenHash(email), idempotencyKey: nil, requestFingerprint: "f", now: now,
            reminders: (0..<reminders).map { index in
                ScheduledReminder(
                    lead: .seconds(3600 * (index + 1)), dueAt: slot.start.addingTimeInterval(-3600 * Double(index + 1)))
            },
            rules: BookingRules(capacity: 1))
    }

    /// A cancel token's hash of its own for each email: 64 hex digits, as every request has its own token.
    static func tokenHash(_ email: String) -> String {
        let hex = email.utf8.map { String($0, radix: 16) }.joined()
        return String((hex + String(repeating: "0", count: 64)).prefix(64))
    }

    func entry(_ new: NewAppointment) -> FirstSeatBatcher.Entry {
        let (claim, values) = PostgresStore.insertClaim(new)
        return FirstSeatBatcher.Entry(new: new, claim: claim, values: values, deadline: .now + .seconds(30))
    }

    /// Replaces `booking_first_seats_v2` with a procedure that runs `before`, calls the real one (which commits),
    /// then runs `after`.
    static func wrapFirstSeats(of store: PostgresStore, before: String, after: String) async throws {
        let logger = PostgresTestDatabase.logger
        try await store.client.query(
            PostgresQuery(
                unsafeSQL: "ALTER PROCEDURE \(FirstSeatsProcedure.name) RENAME TO booking_first_seats_wrapped"),
            logger: logger)
        let arguments = FirstSeatsProcedure.arguments
        let parameters = arguments.map { "\($0.name) \($0.sqlType)" }.joined(separator: ", ")
        let forwarded = arguments.map { "\($0.name) => \($0.name)" }.joined(separator: ", ")
        try await store.client.query(
            PostgresQuery(
                unsafeSQL: """
                    CREATE PROCEDURE \(FirstSeatsProcedure.name)(\(parameters), INOUT ids BIGINT[] DEFAULT NULL,
                        INOUT fell_back BOOLEAN DEFAULT NULL)
                    LANGUAGE plpgsql AS $$
                    BEGIN
                        \(before)
                        CALL booking_first_seats_wrapped(\(forwarded), ids => ids, fell_back => fell_back);
                        \(after)
                    END $$
                    """), logger: logger)
    }

    /// What each answer is, by name.
    static func kinds(_ answers: [FirstSeatBatcher.Answer]) -> [String] {
        answers.map { answer in
            switch answer {
            case .created: "created"
            case .notCreated: "notCreated"
            case .runAlone: "runAlone"
            case .lost: "lost"
            case .error: "error"
            }
        }
    }

    @Test("the pieces make the procedure migration 13 created")
    func procedurePinned() {
        #expect(
            FirstSeatsProcedure.definition == FirstSeatsProcedure.version2,
            """
            the SQL that booking_first_seats_v2 embeds changed: databases migrated earlier keep version2, so add a \
            migration creating booking_first_seats_v3 from FirstSeatsProcedure.definition, call it, and leave version2
            """)
        #expect(FirstSeatsCall.bindingDataTypes.count == FirstSeatsProcedure.arguments.count)
    }

    @Test("one call stores each entry's appointment with its notes and reminders, answered as the database stores it")
    func oneCallStoresEachEntry() async throws {
        try await withStores(1) { stores in
            let store = stores[0]
            let news = [
                booking(try slot(at: 60), email: "a@example.com", note: "first", reminders: 2),
                booking(try slot(at: 120), email: "b@example.com"),
                booking(try slot(at: 180), email: "c@example.com", reminders: 1),
            ]
            let answers = await store.callFirstSeats(news.map(entry))
            #expect(answers.count == 3)
            #expect(store.triesSeatArbiter(), "a call that met nothing did not fall back")
            for (new, answer) in zip(news, answers) {
                guard case .created(let record) = answer else {
                    Issue.record("\(new.customerEmail): expected a new appointment, got \(answer)")
                    continue
                }
                #expect(try await store.record(id: record.appointment.id) == record)
                let kinds = try await store.notifications(appointmentID: record.appointment.id).map(\.kind)
                #expect(kinds == [.booked] + Array(repeating: .reminder, count: new.reminders.count))
                let leads = try await store.notifications(appointmentID: record.appointment.id).compactMap(
                    \.reminderLead)
                #expect(leads == new.reminders.map(\.lead))
            }
        }
    }

    @Test("an entry whose slot is taken, overlapped or held writes nothing, and the entries beside it are stored")
    func refusedEntriesWriteNothing() async throws {
        try await withStores(1) { stores in
            let store = stores[0]
            _ = try await store.insert(booking(try slot(at: 60), email: "taken@example.com"))
            _ = try await store.insert(booking(try slot(at: 120), email: "overlap@example.com"))
            _ = try await store.placeHold(
                NewHold(
                    resource: .default, slot: try slot(at: 240), occupied: try slot(at: 240),
                    tokenHash: String(repeating: "h", count: 64), expiresAt: now.addingTimeInterval(600), now: now,
                    rules: .single))
            let news = [
                booking(try slot(at: 0), email: "e@example.com", reminders: 1),  // free
                booking(try slot(at: 60), email: "a@example.com"),  // the same slot, booked
                booking(try slot(at: 135), email: "b@example.com"),  // overlaps 120-150
                booking(try slot(at: 240), email: "c@example.com"),  // held
                booking(try slot(at: 300), email: "d@example.com"),  // free
            ]
            // What each call asked for and answered, as the procedure saw it.
            let logger = PostgresTestDatabase.logger
            try await store.client.query(
                "CREATE TABLE first_seat_calls (position SERIAL, arbiter BOOLEAN, fallen BOOLEAN)", logger: logger)
            try await Self.wrapFirstSeats(
                of: store, before: "",
                after: "INSERT INTO first_seat_calls (arbiter, fallen) VALUES (arg_seatarbiter, fell_back);")
            // The overlap is an error of the exclusion constraint in the procedure's first insert; the call catches
            // it and stores the free ones all the same: a call that failed would answer each entry `runAlone`.
            #expect(store.triesSeatArbiter())
            let answers = await store.callFirstSeats(news.map(entry))
            #expect(Self.kinds(answers) == ["created", "notCreated", "notCreated", "notCreated", "created"])
            // The call fell back, so the store pauses the seat index's insert; during a pause a call makes version 1's
            // insert alone (the pause made long here, so that no slow machine sees it end), with the same answers.
            #expect(store.seatArbiterPausedUntil.withLock { $0 } != nil)
            store.seatArbiterPausedUntil.withLock { $0 = .now + .seconds(3600) }
            let during = [
                booking(try slot(at: 125), email: "f@example.com"),  // overlaps 120-150
                booking(try slot(at: 360), email: "g@example.com"),  // free
            ]
            #expect(Self.kinds(await store.callFirstSeats(during.map(entry))) == ["notCreated", "created"])
            let calls = try await store.client.query(
                "SELECT arbiter, fallen FROM first_seat_calls ORDER BY position", logger: logger
            ).collect().map { try $0.decode((Bool, Bool).self) }
            #expect(calls.map(\.0) == [true, false] && calls.map(\.1) == [true, false])
            // Once the pause has ended, calls try the seat index's insert again.
            store.seatArbiterPausedUntil.withLock { $0 = .now - .seconds(1) }
            #expect(store.triesSeatArbiter())
            // Through the store, the three refused ones get what stands in the way.
            for (new, code) in zip(news[1...4], [BookingError.Code.slotUnavailable, .slotUnavailable, .slotHeld]) {
                let refused = await #expect(throws: BookingError.self) { try await store.insert(new) }
                #expect(refused?.code == code)
            }
            #expect(try await store.appointments().count == 5)
            // Each stored booking has its notifications once: the undone insert left none behind.
            let notifications = try await store.client.query(
                "SELECT kind, count(*) FROM notifications GROUP BY kind ORDER BY kind",
                logger: PostgresTestDatabase.logger
            ).collect().map { try $0.decode((String, Int64).self) }
            #expect(notifications.map(\.0) == ["booked", "reminder"] && notifications.map(\.1) == [5, 1])
        }
    }

    @Test(
        "a call meeting another writer's uncommitted overlapping row holds none of its rows while it waits: that writer inserts an overlap of the call's entry, no deadlock"
    )
    func waitHoldsNoRows() async throws {
        try await withStores(2) { stores in
            let store = stores[0]
            // The writer's first row (60-90) overlaps the call's 75-105; its second (100-130) overlaps 75-105 too,
            // not 60-90. A call waiting at the first while holding its own 75-105 row would make the second wait
            // for it: each waiting for the other.
            let writer = try await OtherWriter.start(
                on: stores[1].client, first: [try slot(at: 60)], then: [try slot(at: 100)])
            let news = [
                booking(try slot(at: 75), email: "a@example.com"), booking(try slot(at: 300), email: "b@example.com"),
            ]
            let call = Task { await store.callFirstSeats(news.map(entry)) }
            #expect(try await writer.blocksSomeone(stores[1].client), "the call never waited for the writer")
            #expect(try await writer.finish() == nil, "the writer's second insert failed")
            #expect(Self.kinds(await call.value) == ["notCreated", "created"])
            #expect(
                try await store.appointments().map(\.slot.start).sorted()
                    == [60, 100, 300].map { now.addingTimeInterval(Double($0) * 60) })
        }
    }

    @Test(
        "a call meeting another writer's uncommitted overlapping row waits for it: refused when it commits, stored when it rolls back",
        arguments: [true, false])
    func waitsForAnUncommittedOverlap(_ committing: Bool) async throws {
        try await withStores(2) { stores in
            let store = stores[0]
            let writer = try await OtherWriter.start(
                on: stores[1].client, first: [try slot(at: 60)], committing: committing)
            let news = [
                booking(try slot(at: 75), email: "a@example.com"), booking(try slot(at: 300), email: "b@example.com"),
            ]
            let call = Task { await store.callFirstSeats(news.map(entry)) }
            #expect(try await writer.blocksSomeone(stores[1].client), "the call never waited for the writer")
            #expect(try await writer.finish() == nil)
            #expect(Self.kinds(await call.value) == (committing ? ["notCreated", "created"] : ["created", "created"]))
            #expect(store.seatArbiterPausedUntil.withLock { $0 } != nil, "the wait's end did not pause the seat index")
            #expect(try await store.appointments().count == 2)
        }
    }

    @Test(
        "after an overlap undoes the call's first insert, its second meets another writer's uncommitted seat 0: refused when that commits, stored when it rolls back",
        arguments: [true, false])
    func secondInsertMeetsAnUncommittedSeat(_ committing: Bool) async throws {
        try await withStores(2) { stores in
            let store = stores[0]
            _ = try await store.insert(booking(try slot(at: 120), email: "booked@example.com"))
            let writer = try await OtherWriter.start(
                on: stores[1].client, first: [try slot(at: 300)], committing: committing)
            let news = [
                booking(try slot(at: 135), email: "a@example.com"),  // overlaps the booked 120-150
                booking(try slot(at: 300), email: "b@example.com"),  // the writer's, not yet committed
            ]
            let call = Task { await store.callFirstSeats(news.map(entry)) }
            #expect(try await writer.blocksSomeone(stores[1].client), "the call never waited for the writer")
            #expect(try await writer.finish() == nil)
            #expect(
                Self.kinds(await call.value)
                    == (committing ? ["notCreated", "notCreated"] : ["notCreated", "created"]))
            #expect(try await store.appointments().count == 2)
        }
    }

    @Test(
        "the procedure of schema 12 (booking_first_seats_v1), called by processes of that release, books on schema 13")
    func previousVersionStillBooks() async throws {
        try await withStores(1) { stores in
            let store = stores[0]
            let logger = PostgresTestDatabase.logger
            // The store's call reaches version 1 with version 1's arguments, as a process of schema 12 calls it (and
            // a call still bound to version 2 would fail: it is gone).
            let arguments = FirstSeatsProcedure.arguments
            let parameters = arguments.map { "\($0.name) \($0.sqlType)" }.joined(separator: ", ")
            let forwarded = arguments.filter { $0.name != "arg_seatarbiter" }.map { "\($0.name) => \($0.name)" }
            try await store.client.query(
                PostgresQuery(unsafeSQL: "DROP PROCEDURE \(FirstSeatsProcedure.name)"), logger: logger)
            try await store.client.query(
                PostgresQuery(
                    unsafeSQL: """
                        CREATE PROCEDURE \(FirstSeatsProcedure.name)(\(parameters), INOUT ids BIGINT[] DEFAULT NULL,
                            INOUT fell_back BOOLEAN DEFAULT NULL)
                        LANGUAGE plpgsql AS $$
                        BEGIN
                            CALL booking_first_seats_v1(\(forwarded.joined(separator: ", ")), ids => ids);
                            fell_back := FALSE;
                        END $$
                        """), logger: logger)
            _ = try await store.insert(booking(try slot(at: 120), email: "booked@example.com"))
            let news = [
                booking(try slot(at: 60), email: "a@example.com"), booking(try slot(at: 135), email: "b@example.com"),
            ]
            #expect(Self.kinds(await store.callFirstSeats(news.map(entry))) == ["created", "notCreated"])
            #expect(try await store.appointments().count == 2)
        }
    }

    @Test("bookings that arrive together are each stored once, with their answers, through calls of several")
    func concurrentBookingsEachStored() async throws {
        try await withStores(1) { stores in
            let store = stores[0]
            // Each call's number of bookings, as the procedure receives them.
            try await store.client.query(
                "CREATE TABLE first_seat_calls (entries INTEGER NOT NULL)", logger: PostgresTestDatabase.logger)
            try await Self.wrapFirstSeats(
                of: store, before: "INSERT INTO first_seat_calls VALUES (cardinality(arg_slotstarts));", after: "")
            let news = try (0..<40).map { index in
                booking(
                    try slot(at: 60 * (index + 1)), email: "guest\(index)@example.com",
                    note: index.isMultiple(of: 2) ? "note \(index)" : nil, reminders: index % 3)
            }
            let outcomes = try await withThrowingTaskGroup(of: InsertOutcome.self) { group in
                for new in news { group.addTask { try await store.insert(new) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            var emails: Set<String> = []
            for outcome in outcomes {
                guard case .created(let record) = outcome else {
                    Issue.record("expected a new appointment, got \(outcome)")
                    continue
                }
                emails.insert(record.appointment.customerEmail)
                #expect(try await store.record(id: record.appointment.id) == record)
            }
            #expect(emails == Set(news.map(\.customerEmail)))
            #expect(try await store.appointments().count == 40)
            let calls = try await store.client.query(
                "SELECT entries FROM first_seat_calls", logger: PostgresTestDatabase.logger
            ).collect().map { try $0.decode(Int.self) }
            #expect(calls.reduce(0, +) == 40, "every booking's first try went in a call: \(calls)")
            #expect(calls.count < 40 && (calls.max() ?? 0) > 1, "no call took several bookings: \(calls)")
            let notifications = try await store.notifications(appointmentID: nil)
            #expect(notifications.count == news.reduce(0) { $0 + 1 + $1.reminders.count })
        }
    }

    @Test("bookings of one slot arriving together: exactly one is stored, the others are refused")
    func oneSlotRushedTogether() async throws {
        try await withStores(2) { stores in
            let target = try slot(at: 60)
            let results = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<24 {
                    let store = stores[index % 2]
                    let new = booking(target, email: "guest\(index)@example.com")
                    group.addTask {
                        do {
                            _ = try await store.insert(new)
                            return true
                        } catch let error as BookingError {
                            #expect(error.code == .slotUnavailable)
                            return false
                        } catch {
                            Issue.record("\(error)")
                            return false
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            #expect(try await stores[0].appointments().count == 1)
        }
    }

    @Test("a booking the database cannot store fails the call: it alone is refused, and the others are stored")
    func unstorableEntryFailsAlone() async throws {
        try await withStores(1) { stores in
            let store = stores[0]
            var news = try (0..<4).map { booking(try slot(at: 60 * ($0 + 1)), email: "guest\($0)@example.com") }
            news[2].customerName = "Nul\u{0}Name"
            let answers = await store.callFirstSeats(news.map(entry))
            #expect(
                answers.allSatisfy {
                    if case .runAlone = $0 { return true }
                    return false
                })
            #expect(try await store.appointments().isEmpty)
            let results = await withTaskGroup(of: (Int, BookingError.Code?).self) { group -> [BookingError.Code?] in
                for (index, new) in news.enumerated() {
                    group.addTask {
                        do throws(BookingError) {
                            _ = try await store.insert(new)
                            return (index, nil)
                        } catch {
                            return (index, error.code)
                        }
                    }
                }
                var codes = [BookingError.Code?](repeating: nil, count: news.count)
                for await (index, code) in group { codes[index] = code }
                return codes
            }
            #expect(results == [nil, nil, .invalidInput, nil])
            #expect(try await store.appointments().count == 3)
        }
    }

    @Test(
        "a statement timeout raised after the call committed: the stored bookings are the answers, and the one it did not store runs alone"
    )
    func cancelledAfterCommitAnswersEachEntry() async throws {
        try await withStores(1) { stores in
            let store = stores[0]
            _ = try await store.insert(booking(try slot(at: 60), email: "taken@example.com"))
            try await Self.wrapFirstSeats(
                of: store, before: "",
                after: "RAISE EXCEPTION 'canceling statement due to statement timeout' USING ERRCODE = '57014';")
            let news = [
                booking(try slot(at: 60), email: "a@example.com"),  // booked already: not stored by the call
                booking(try slot(at: 120), email: "b@example.com"),
                booking(try slot(at: 180), email: "c@example.com"),
            ]
            let answers = await store.callFirstSeats(news.map(entry))
            guard answers.count == 3, case .runAlone = answers[0], case .created(let first) = answers[1],
                case .created(let second) = answers[2]
            else {
                Issue.record("unexpected answers \(answers)")
                return
            }
            #expect(try await store.record(id: first.appointment.id) == first)
            #expect(try await store.record(id: second.appointment.id) == second)
            #expect(try await store.appointments().count == 3)
        }
    }

    @Test(
        "a call planned on an empty table reads only its own slot once the table holds 20,000 bookings (no ANALYZE in between): the shared call, and a booking's own (with a key)",
        arguments: [false, true])
    func planStaysNarrowAsTheTableGrows(keyed: Bool) async throws {
        try await withStoreAndAdmin(poolSize: 1) { store, admin in
            let logger = PostgresTestDatabase.logger
            func booked(_ minutes: Int, _ email: String) throws -> NewAppointment {
                var new = try booking(slot(at: minutes), email: email)
                if keyed { new.idempotencyKey = "key-\(email)" }
                return new
            }
            // The call's statements are planned now, on the empty table, on the pool's one connection.
            _ = try await store.insert(booked(60, "first@example.com"))
            try await admin.client.query(
                """
                INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                    customer_email, status, cancel_token_hash, request_fingerprint, created_at, updated_at)
                SELECT 'default', start, start + interval '5 minutes', start, start + interval '5 minutes', 'Guest',
                    'guest@example.com', 'booked', 'h', 'f', now(), now()
                FROM generate_series(timestamptz '2040-01-01', timestamptz '2040-01-01' + interval '5 minutes' * 19999,
                    interval '5 minutes') AS start
                """, logger: logger)
            let read = try await TableBlocks(store: store, admin: admin).read {
                _ = try await store.insert(booked(120, "second@example.com"))
            }
            // Its own slot's probe, the insert into the table and its indexes: tens of blocks. A plan that reads
            // every booking reads hundreds more.
            #expect(read < 150, "one booking read \(read) blocks of appointments")
        }
    }

    @Test("once the call is refused, a store of one connection books on that connection: nothing closes it")
    func refusedCallKeepsTheConnection() async throws {
        let configuration = try await PostgresTestDatabase.create(poolSize: 1)
        let running = try await PostgresTestDatabase.opening(configuration) { try await RunningStore(configuration) }
        do {
            let store = running.store
            let logger = PostgresTestDatabase.logger
            func backend() async throws -> Int32? {
                try await store.client.query("SELECT pg_backend_pid()", logger: logger).collect().first?
                    .decode(Int32.self)
            }
            try await store.client.query("DROP PROCEDURE \(unescaped: FirstSeatsProcedure.name)", logger: logger)
            let before = try await backend()
            _ = try await store.insert(booking(try slot(at: 60), email: "a@example.com"))
            #expect(store.firstSeatsTogether.load(ordering: .relaxed) == false)
            _ = try await store.insert(booking(try slot(at: 120), email: "b@example.com"))
            #expect(try await backend() == before, "the connection was replaced")
            #expect(try await store.appointments().count == 2)
        } catch {
            Issue.record("\(error)")
        }
        await running.stop()
        await PostgresTestDatabase.drop(configuration)
    }

    @Test("when the call fails with an error of its own, each booking runs alone and is stored")
    func failedCallRunsEachAlone() async throws {
        try await withStores(1) { stores in
            let store = stores[0]
            try await store.client.query(
                "DROP PROCEDURE \(unescaped: FirstSeatsProcedure.name)", logger: PostgresTestDatabase.logger)
            let news = try (0..<6).map { booking(try slot(at: 60 * ($0 + 1)), email: "guest\($0)@example.com") }
            let answers = await store.callFirstSeats(news.map(entry))
            #expect(
                answers.allSatisfy {
                    if case .runAlone = $0 { return true }
                    return false
                })
            let outcomes = try await withThrowingTaskGroup(of: InsertOutcome.self) { group in
                for new in news { group.addTask { try await store.insert(new) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.count == 6)
            #expect(try await store.appointments().count == 6)
            // No such procedure refuses the call itself: the store stops calling it, and books alone.
            #expect(store.firstSeatsTogether.load(ordering: .relaxed) == false)
            _ = try await store.insert(try booking(slot(at: 600), email: "later@example.com"))
            #expect(try await store.appointments().count == 7)
        }
    }
}

/// How ``FirstSeatBatcher`` gathers bookings into calls, without a database.
@Suite("First seats gathered into calls")
struct FirstSeatBatcherTests {
    /// Opens once: the first call waits on it, so the bookings that arrive meanwhile gather.
    final class Gate: Sendable {
        private let stream = AsyncStream.makeStream(of: Void.self)
        func open() { stream.continuation.finish() }
        func wait() async { for await _ in stream.stream {} }
    }

    /// The calls made, each as the starts (minutes) of its entries.
    final class Calls: Sendable {
        private let calls = Mutex<[[Int]]>([])
        func append(_ call: [Int]) { calls.withLock { $0.append(call) } }
        var all: [[Int]] { calls.withLock { $0 } }
    }

    let now = Date(millisecondsSince1970: 1_803_801_600_000)

    func entry(at minutes: Int, length: Int = 30) throws -> FirstSeatBatcher.Entry {
        let start = now.addingTimeInterval(Double(minutes) * 60)
        let slot = try TimeSlot(start: start, end: start.addingTimeInterval(Double(length) * 60))
        let new = NewAppointment(
            resource: .default, slot: slot, occupied: slot, customerName: "Ada", customerEmail: "a@example.com",
            note: nil, cancelTokenHash: "h", idempotencyKey: nil, requestFingerprint: "f", now: now,
            rules: BookingRules(capacity: 1))
        let (claim, values) = PostgresStore.insertClaim(new)
        return FirstSeatBatcher.Entry(new: new, claim: claim, values: values, deadline: .now + .seconds(30))
    }

    func minutes(_ entry: FirstSeatBatcher.Entry) -> Int {
        Int(entry.claim.slot.start.timeIntervalSince(now) / 60)
    }

    @Test("a booking whose deadline passes while the calls are busy runs alone, without waiting for them")
    func deadlinePassesWhileWaiting() async throws {
        let batcher = FirstSeatBatcher(concurrentCalls: 1, maximumEntries: 8)
        let gate = Gate()
        let calls = Calls()
        let call: @Sendable ([FirstSeatBatcher.Entry]) async -> [FirstSeatBatcher.Answer] = { entries in
            calls.append(entries.map(minutes))
            await gate.wait()
            return entries.map { _ in .notCreated }
        }
        let first = Task { await batcher.submit(try entry(at: 0), call: call) }
        try await eventually { !calls.all.isEmpty }
        try #require(!calls.all.isEmpty, "the first call never started")
        let late = try entry(at: 60)
        let waiting = FirstSeatBatcher.Entry(
            new: late.new, claim: late.claim, values: late.values, deadline: .now + .milliseconds(100))
        let answer = await batcher.submit(waiting, call: call)
        guard case .runAlone = answer else {
            Issue.record("expected to run alone, got \(answer)")
            return
        }
        #expect(calls.all == [[0]], "the late booking went in a call")
        gate.open()
        _ = try await first.value
    }

    @Test(
        "bookings that arrive while a call runs go together in the next, in order of start; one that meets another of that call runs alone"
    )
    func gathersWhileACallRuns() async throws {
        let batcher = FirstSeatBatcher(concurrentCalls: 1, maximumEntries: 3)
        let gate = Gate()
        let calls = Calls()
        let call: @Sendable ([FirstSeatBatcher.Entry]) async -> [FirstSeatBatcher.Answer] = { entries in
            let starts = entries.map(minutes)
            calls.append(starts)
            if starts == [0] { await gate.wait() }
            // Each entry's answer names its start, so each booking can be shown its own.
            return entries.map { .error(.invalidInput(field: "start", "\(minutes($0))")) }
        }
        let first = Task { await batcher.submit(try entry(at: 0), call: call) }
        try await eventually { !calls.all.isEmpty }
        try #require(!calls.all.isEmpty, "the first call never started")
        // While the first call waits: 300 and 315 overlap, 400 and 200 do not; at most three per call.
        var waiting: [Task<FirstSeatBatcher.Answer, any Error>] = []
        for (index, start) in [300, 315, 400, 200, 500].enumerated() {
            waiting.append(Task { await batcher.submit(try entry(at: start), call: call) })
            // In order of arrival: each waits before the next is sent.
            try await eventually { batcher.waitingCount == index + 1 }
            try #require(batcher.waitingCount == index + 1, "booking at \(start) never waited")
        }
        gate.open()
        var answered: [String] = []
        for task in [first] + waiting {
            switch try await task.value {
            case .error(let error): answered.append(error.fieldErrors["start"] ?? "")
            case .runAlone: answered.append("alone")
            default: answered.append("?")
            }
        }
        // 315 meets 300, which the second call takes: it runs alone at once. 500 is past the three.
        #expect(answered == ["0", "300", "alone", "400", "200", "500"])
        #expect(calls.all == [[0], [200, 300, 400], [500]])
    }
}

/// Another writer of `appointments`: a transaction on a connection of its own that inserts a booked appointment of
/// each slot of `first` and stays open until ``finish()``, which inserts those of `then` (waiting at most 300 ms for a
/// lock, well within PostgreSQL's default `deadlock_timeout` of 1 s: a wait that only a deadlock's detection would end
/// fails it) and commits, or rolls back. Left unfinished, it rolls back after 30 s.
final class OtherWriter: Sendable {
    /// The writer's backend process.
    let pid: Int32
    private let proceed: AsyncStream<Void>.Continuation
    private let task: Task<String?, any Error>

    private init(pid: Int32, proceed: AsyncStream<Void>.Continuation, task: Task<String?, any Error>) {
        self.pid = pid
        self.proceed = proceed
        self.task = task
    }

    /// Starts the writer and returns once the rows of `first` are written.
    static func start(
        on client: PostgresClient, first: [TimeSlot], then: [TimeSlot] = [], committing: Bool = true
    ) async throws -> OtherWriter {
        let logger = PostgresTestDatabase.logger
        let (written, wrote) = AsyncStream.makeStream(of: Int32.self)
        let (proceeding, proceed) = AsyncStream.makeStream(of: Void.self)
        let timeout = Task {
            try? await Task.sleep(for: .seconds(30))
            proceed.finish()
        }
        @Sendable func insert(_ slots: [TimeSlot], on connection: PostgresConnection) async throws {
            for slot in slots {
                try await connection.query(
                    """
                    INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end,
                        customer_name, customer_email, status, cancel_token_hash, request_fingerprint, created_at,
                        updated_at)
                    VALUES ('default', \(slot.start), \(slot.end), \(slot.start), \(slot.end), 'Other',
                        'other@example.com', 'booked', 'h', 'other', now(), now())
                    """, logger: logger)
            }
        }
        let task = Task { () throws -> String? in
            defer {
                wrote.finish()
                timeout.cancel()
            }
            return try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    try await insert(first, on: connection)
                    let pid = try await connection.query("SELECT pg_backend_pid()", logger: logger).collect()
                    wrote.yield(try pid.first?.decode(Int32.self) ?? 0)
                    for await _ in proceeding { break }
                    try await connection.query("SET LOCAL lock_timeout = '300ms'", logger: logger)
                    try await insert(then, on: connection)
                } catch {
                    try await connection.query("ROLLBACK", logger: logger)
                    return PostgresStore.sqlState(of: error) ?? "\(error)"
                }
                try await connection.query(committing ? "COMMIT" : "ROLLBACK", logger: logger)
                return nil
            }
        }
        for await pid in written { return OtherWriter(pid: pid, proceed: proceed, task: task) }
        throw PostgresTestDatabase.Unavailable(
            description: "the other writer failed: \(String(describing: try await task.value))")
    }

    /// Whether, within 30 s, a session is seen blocked by this writer twice, a second or more apart: far longer than the
    /// 10 ms a first try with the seat index as the arbiter waits (even for a backend a loaded machine leaves without
    /// a CPU for a while after its lock timeout fired), so the second sighting is of a session waiting in version 1's
    /// insert (its fall back). A test ending the writer during the first try's wait would race its 10 ms. (Two
    /// sightings, not `pg_locks.waitstart`, which PostgreSQL 12 and 13 lack.)
    func blocksSomeone(_ client: PostgresClient) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        var firstSeen: ContinuousClock.Instant?
        while ContinuousClock.now < deadline {
            let seen = ContinuousClock.now
            let waiting = try await client.query(
                "SELECT count(*) FROM pg_stat_activity WHERE pg_blocking_pids(pid) @> ARRAY[\(pid)]::INTEGER[]",
                logger: PostgresTestDatabase.logger
            ).collect().first?.decode(Int.self)
            if (waiting ?? 0) > 0 {
                guard let firstSeen else {
                    firstSeen = seen
                    continue
                }
                if seen - firstSeen >= .seconds(1) { return true }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// Inserts the rows of `then` and ends the transaction: the SQLSTATE of a failure there, or `nil`.
    func finish() async throws -> String? {
        proceed.finish()
        return try await task.value
    }
}
