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
            try await store.client.withConnection { connection in try await Self.schemaV3(on: connection) }
            try await store.migrate()
            #expect(try await store.appliedMigrations() == [1, 2, 3, 4])
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

    /// Migrations 1-3, recorded, and one cancelled appointment with notifications 7 (booked) and 8 (cancelled).
    private static func schemaV3(on connection: PostgresConnection) async throws {
        let logger = PostgresTestDatabase.logger
        try await connection.query(
            """
            CREATE TABLE booking_schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """, logger: logger)
        for migration in PostgresStore.migrations.prefix(3) {
            for statement in migration.statements { try await connection.query(statement, logger: logger) }
            try await connection.query(
                "INSERT INTO booking_schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                logger: logger)
        }
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
