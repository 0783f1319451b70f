import BookingDomain
import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStore

@Suite("PostgreSQL store: upgrades")
struct PostgresUpgradeTests {
    @Test("migration 4 (reminders) keeps every notification, its id and its sequence, and ids continue after them")
    func remindersMigrationKeepsRows() async throws {
        try await withStores(1, migrate: false) { stores in
            let store = stores[0]
            // The schema as release 3 left it, with a booked-and-cancelled appointment and its two notifications.
            try await store.client.withConnection { connection in
                try await Self.schema(upTo: 3, on: connection)
                try await Self.cancelledAppointment(on: connection)
            }
            try await store.migrate()
            #expect(try await store.appliedMigrations() == Array(1...13))
            let kept = try await store.notifications(appointmentID: 1)
            #expect(kept.map(\.id) == [7, 8])
            #expect(kept.map(\.kind) == [.booked, .cancelled])
            #expect(kept.map(\.status) == [.sent, .pending])
            #expect(kept.allSatisfy { $0.sequence == 0 && $0.reminderLead == nil })
            let now = Date(millisecondsSince1970: 1_803_888_000_000)
            let start = now.addingTimeInterval(86_400)
            let slot = try TimeSlot(start: start, end: start.addingTimeInterval(1800))
            let booked = try await store.insert(
                NewAppointment(
                    resource: .default, slot: slot, occupied: slot, customerName: "Grace",
                    customerEmail: "g@example.com",
                    note: nil, cancelTokenHash: String(repeating: "c", count: 64), idempotencyKey: nil,
                    requestFingerprint: "g", now: now,
                    reminders: ScheduledReminder.due(leads: [.minutes(60)], before: start, now: now)))
            let written = try await store.notifications(appointmentID: booked.record.appointment.id)
            #expect(written.map(\.id) == [9, 10])
            #expect(written.map(\.reminderLead) == [nil, .minutes(60)])
        }
    }

    @Test(
        "migration 5 (capacity) keeps booked appointments, lets seats of one slot share it, and still excludes overlaps"
    )
    func capacityMigrationKeepsBookings() async throws {
        try await withStores(1, migrate: false) { store in
            let store = store[0]
            // The schema as release 4 left it, with two adjacent booked appointments (the second with buffers).
            try await store.client.withConnection { connection in
                try await Self.schema(upTo: 4, on: connection)
                try await connection.query(
                    """
                    INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                        customer_email, status, cancel_token_hash, request_fingerprint, created_at, updated_at)
                    VALUES
                        ('default', '2027-03-01T10:00Z', '2027-03-01T10:30Z', '2027-03-01T10:00Z', '2027-03-01T10:30Z',
                            'Ada', 'ada@example.com', 'booked', 'h', 'f', '2027-03-01T08:00Z', '2027-03-01T08:00Z'),
                        ('default', '2027-03-01T10:40Z', '2027-03-01T11:10Z', '2027-03-01T10:30Z', '2027-03-01T11:20Z',
                            'Bob', 'bob@example.com', 'booked', 'h', 'f', '2027-03-01T08:00Z', '2027-03-01T08:00Z')
                    """, logger: PostgresTestDatabase.logger)
            }
            try await store.migrate()
            #expect(try await store.appliedMigrations() == Array(1...13))
            let now = Date(millisecondsSince1970: 1_803_888_000_000)  // 2027-03-01T08:00Z
            let first = try TimeSlot(
                start: now.addingTimeInterval(7200), end: now.addingTimeInterval(7200 + 1800))
            let window = try TimeSlot(start: first.start, end: first.start.addingTimeInterval(7200))
            let before = try await store.occupants(resource: .default, overlapping: window, now: now)
            #expect(before.map(\.slot.start) == [first.start, first.start.addingTimeInterval(2400)])
            #expect(before.allSatisfy { !$0.isHold })

            func seat(_ slot: TimeSlot, email: String) -> NewAppointment {
                NewAppointment(
                    resource: .default, slot: slot, occupied: slot, customerName: "Cy", customerEmail: email, note: nil,
                    cancelTokenHash: String(repeating: "c", count: 64), idempotencyKey: nil, requestFingerprint: "s",
                    now: now, rules: BookingRules(capacity: 2))
            }
            // A second seat of the first slot shares its interval with the existing booking.
            _ = try await store.insert(seat(first, email: "cy@example.com"))
            // The slot is full, the customer already in it, and an overlapping different slot is still excluded.
            let full = await #expect(throws: BookingError.self) {
                try await store.insert(seat(first, email: "dee@example.com"))
            }
            #expect(full?.code == .slotUnavailable)
            let overlapping = try TimeSlot(
                start: first.start.addingTimeInterval(900), end: first.end.addingTimeInterval(900))
            let excluded = await #expect(throws: BookingError.self) {
                try await store.insert(seat(overlapping, email: "eve@example.com"))
            }
            #expect(excluded?.code == .slotUnavailable)
            let rows = try await store.client.query(
                "SELECT count(*)::int8 FROM appointments WHERE status = 'booked'", logger: PostgresTestDatabase.logger)
            var counts: [Int64] = []
            for try await count in rows.decode(Int64.self) { counts.append(count) }
            #expect(counts == [3])
        }
    }

    @Test(
        "migration 9 (seats) numbers each slot's booked appointments in the order they were booked, and the slot stays full"
    )
    func seatsMigrationNumbersBookings() async throws {
        try await withStores(1, migrate: false) { stores in
            let store = stores[0]
            // The schema as release 8 left it: three seats of one slot booked (one cancelled between them), and a
            // booking of the next slot.
            try await store.client.withConnection { connection in
                try await Self.schema(upTo: 8, on: connection)
                try await connection.query(
                    """
                    INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                        customer_email, status, cancel_token_hash, request_fingerprint, created_at, updated_at)
                    SELECT 'default', slot_start, slot_start + interval '30 minutes', slot_start,
                        slot_start + interval '30 minutes', 'Guest', email, status, 'h', 'f', '2027-03-01T08:00Z',
                        '2027-03-01T08:00Z'
                    FROM (VALUES
                        ('2027-03-01T10:00Z'::TIMESTAMPTZ, 'a@example.com', 'booked'),
                        ('2027-03-01T10:00Z', 'b@example.com', 'cancelled'),
                        ('2027-03-01T10:00Z', 'c@example.com', 'booked'),
                        ('2027-03-01T10:30Z', 'd@example.com', 'booked'),
                        ('2027-03-01T10:00Z', 'e@example.com', 'booked')
                    ) AS row(slot_start, email, status)
                    """, logger: PostgresTestDatabase.logger)
            }
            try await store.migrate()
            #expect(try await store.appliedMigrations() == Array(1...13))
            let rows = try await store.client.query(
                "SELECT customer_email, status, seat FROM appointments ORDER BY id", logger: PostgresTestDatabase.logger
            )
            var seats: [String] = []
            for try await (email, status, seat) in rows.decode((String, String, Int).self) {
                seats.append("\(email) \(status) \(seat)")
            }
            #expect(
                seats == [
                    "a@example.com booked 0", "b@example.com cancelled 0", "c@example.com booked 1",
                    "d@example.com booked 0", "e@example.com booked 2",
                ])
            let now = Date(millisecondsSince1970: 1_803_888_000_000)  // 2027-03-01T08:00Z
            let slot = try TimeSlot(start: now.addingTimeInterval(7200), end: now.addingTimeInterval(9000))
            func seat(_ email: String) -> NewAppointment {
                NewAppointment(
                    resource: .default, slot: slot, occupied: slot, customerName: "Fay", customerEmail: email,
                    note: nil,
                    cancelTokenHash: String(repeating: "c", count: 64), idempotencyKey: nil, requestFingerprint: "s",
                    now: now, rules: BookingRules(capacity: 3))
            }
            let full = await #expect(throws: BookingError.self) { try await store.insert(seat("f@example.com")) }
            #expect(full?.code == .slotUnavailable)
            _ = try await store.cancel(id: 3, now: now)  // c@example.com, seat 1
            let booked = try await store.insert(seat("f@example.com"))
            let seat = try await store.client.query(
                "SELECT seat FROM appointments WHERE id = \(booked.record.appointment.id)",
                logger: PostgresTestDatabase.logger
            ).collect().first?.decode(Int.self)
            #expect(seat == 1)
            // Migrations 10 and 12 add booking_insert_v4 and v5 and keep the ones before, which processes of
            // earlier schemas still call.
            let procedures = try await store.client.query(
                "SELECT proname FROM pg_proc WHERE proname LIKE 'booking_insert_v%' ORDER BY proname",
                logger: PostgresTestDatabase.logger
            ).collect().map { try $0.decode(String.self) }
            #expect(procedures.suffix(3) == ["booking_insert_v3", "booking_insert_v4", "booking_insert_v5"])
            // Migration 11 adds the call of first seats together, and migration 13 its second version beside it.
            let batched = try await store.client.query(
                "SELECT proname FROM pg_proc WHERE proname LIKE 'booking_first_seats_v%' ORDER BY proname",
                logger: PostgresTestDatabase.logger
            ).collect().map { try $0.decode(String.self) }
            #expect(batched == ["booking_first_seats_v1", "booking_first_seats_v2"])
        }
    }

    @Test(
        "migration 12 (the no-overlap index compares a hash of the resource first) keeps every booking and excludes the same overlaps"
    )
    func hashedOverlapIndexMigrationKeepsBookings() async throws {
        try await withStores(1, migrate: false) { stores in
            let store = stores[0]
            let logger = PostgresTestDatabase.logger
            // The schema as release 11 left it, with one booking of each of two resources at the same time.
            try await store.client.withConnection { connection in
                try await Self.schema(upTo: 11, on: connection)
                try await connection.query(
                    """
                    INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                        customer_email, status, cancel_token_hash, request_fingerprint, created_at, updated_at)
                    VALUES
                        ('default', '2027-03-01T10:00Z', '2027-03-01T10:30Z', '2027-03-01T10:00Z', '2027-03-01T10:30Z',
                            'Ada', 'ada@example.com', 'booked', 'h', 'f', '2027-03-01T08:00Z', '2027-03-01T08:00Z'),
                        ('room-b', '2027-03-01T10:00Z', '2027-03-01T10:30Z', '2027-03-01T10:00Z', '2027-03-01T10:30Z',
                            'Bob', 'bob@example.com', 'booked', 'h', 'f', '2027-03-01T08:00Z', '2027-03-01T08:00Z')
                    """, logger: logger)
            }
            try await store.migrate()
            #expect(try await store.appliedMigrations() == Array(1...13))
            let definition = try await store.client.query(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'appointments_no_overlap'",
                logger: logger
            ).collect().first?.decode(String.self)
            // The hash first, then the interval, and the name itself, which keeps the constraint exact.
            #expect(
                definition
                    == """
                    EXCLUDE USING gist (hashtextextended(resource, (0)::bigint) WITH =, tstzrange(occupied_start, \
                    occupied_end, '[)'::text) WITH &&, resource COLLATE "C" WITH =, slot_start WITH <>) \
                    WHERE ((status = 'booked'::text))
                    """)
            #expect(try await store.appointments().map(\.customerName) == ["Ada", "Bob"])
            let now = Date(millisecondsSince1970: 1_803_888_000_000)  // 2027-03-01T08:00Z
            let ten = now.addingTimeInterval(7200)
            func booking(_ resource: String, from minutes: Double, _ email: String) throws -> NewAppointment {
                let slot = try TimeSlot(
                    start: ten.addingTimeInterval(minutes * 60), end: ten.addingTimeInterval((minutes + 30) * 60))
                return NewAppointment(
                    resource: ResourceID(rawValue: resource)!, slot: slot, occupied: slot, customerName: "Cy",
                    customerEmail: email, note: nil, cancelTokenHash: String(repeating: "c", count: 64),
                    idempotencyKey: nil, requestFingerprint: "c", now: now)
            }
            // An overlapping slot of another start is refused on each resource booked before the migration.
            for resource in ["default", "room-b"] {
                let refused = await #expect(throws: BookingError.self) {
                    try await store.insert(booking(resource, from: 15, "cy@example.com"))
                }
                #expect(refused?.code == .slotUnavailable)
            }
            // And by the constraint itself, for a row written past the store's checks.
            do {
                try await store.client.query(
                    """
                    INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                        customer_email, status, cancel_token_hash, request_fingerprint, created_at, updated_at)
                    VALUES ('room-b', '2027-03-01T10:15Z', '2027-03-01T10:45Z', '2027-03-01T10:15Z',
                        '2027-03-01T10:45Z', 'Di', 'di@example.com', 'booked', 'h', 'f', now(), now())
                    """, logger: logger)
                Issue.record("the constraint let an overlapping booking of room-b in")
            } catch {
                #expect(PostgresStore.sqlState(of: error) == "23P01")
            }
            // Another resource at that time, and each resource's next slot, are free.
            _ = try await store.insert(booking("room-c", from: 0, "cy@example.com"))
            _ = try await store.insert(booking("default", from: 30, "cy@example.com"))
            _ = try await store.insert(booking("room-b", from: 30, "cy@example.com"))
            #expect(try await store.appointments().count == 5)
            // A process of schema 11, still running, calls booking_insert_v4, which migration 12 keeps: it books a
            // free slot and refuses an overlapping one.
            func callOfSchemaEleven(_ new: NewAppointment) async throws -> Bool? {
                try await store.client.withConnection { connection in
                    let call = PreparedClaim<SchemaElevenInsertCall>(values: PostgresStore.insertClaim(new).values)
                    var created: Bool?
                    for try await row in try await connection.execute(call, logger: logger) {
                        created = try row.makeRandomAccess()["created"].decode(Bool?.self)
                    }
                    return created
                }
            }
            #expect(try await callOfSchemaEleven(booking("room-b", from: 60, "di@example.com")) == true)
            #expect(try await callOfSchemaEleven(booking("default", from: 45, "di@example.com")) == nil)
            #expect(try await store.appointments().count == 6)
        }
    }

    /// Migrations up to `version`, recorded, on an empty database.
    private static func schema(upTo version: Int, on connection: PostgresConnection) async throws {
        let logger = PostgresTestDatabase.logger
        try await connection.query(
            """
            CREATE TABLE booking_schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """, logger: logger)
        for migration in PostgresStore.migrations.prefix(while: { $0.version <= version }) {
            for statement in migration.statements { try await connection.query(statement, logger: logger) }
            try await connection.query(
                "INSERT INTO booking_schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                logger: logger)
        }
    }

    /// One cancelled appointment with notifications 7 (booked) and 8 (cancelled), on the schema of release 3.
    private static func cancelledAppointment(on connection: PostgresConnection) async throws {
        let logger = PostgresTestDatabase.logger
        try await connection.query(
            """
            INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                customer_email, status, cancel_token_hash, request_fingerprint, created_at, updated_at, cancelled_at)
            VALUES ('default', '2027-03-01T10:00Z', '2027-03-01T10:30Z', '2027-03-01T10:00Z', '2027-03-01T10:30Z',
                'Ada', 'ada@example.com', 'cancelled', 'h', 'f', '2027-03-01T08:00Z', '2027-03-01T09:00Z',
                '2027-03-01T09:00Z')
            """, logger: logger)
        try await connection.query(
            """
            INSERT INTO notifications (id, appointment_id, kind, status, attempts, next_attempt_at, created_at, updated_at)
            VALUES (7, 1, 'booked', 'sent', 1, now(), now(), now()), (8, 1, 'cancelled', 'pending', 0, now(), now(), now())
            """, logger: logger)
        for try await _ in try await connection.query("SELECT setval('notifications_id_seq', 8)", logger: logger) {}
    }
}

/// The booking call of a process of schema 11: `booking_insert_v4`, whose arguments are those of v5.
private enum SchemaElevenInsertCall: ClaimStatementKind {
    static let name = "booking_insert_v4_call"
    static let rendered = (
        sql: InsertCallStatement.rendered.sql.replacingOccurrences(of: InsertProcedure.name, with: "booking_insert_v4"),
        parameters: InsertCallStatement.rendered.parameters
    )
}
