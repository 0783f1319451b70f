import BookingDomain
import Logging
import PostgresNIO

extension PostgresStore {
    /// One versioned schema change.
    struct Migration: Sendable {
        let version: Int
        let name: String
        let statements: [PostgresQuery]
    }

    /// The advisory lock key that serializes migrations across processes ("booking" in ASCII).
    static let migrationLockKey: Int64 = 0x626F_6F6B_696E_67

    /// The schema, oldest first. Instants are `TIMESTAMPTZ`; the exclusion constraint keeps booked
    /// occupied intervals of one resource disjoint, whatever process writes.
    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "appointments and notifications",
            statements: [
                "CREATE EXTENSION IF NOT EXISTS btree_gist",
                """
                CREATE TABLE appointments (
                    id BIGSERIAL PRIMARY KEY,
                    resource TEXT NOT NULL,
                    slot_start TIMESTAMPTZ NOT NULL,
                    slot_end TIMESTAMPTZ NOT NULL,
                    occupied_start TIMESTAMPTZ NOT NULL,
                    occupied_end TIMESTAMPTZ NOT NULL,
                    customer_name TEXT NOT NULL CHECK (char_length(customer_name) BETWEEN 1 AND 200),
                    customer_email TEXT NOT NULL CHECK (char_length(customer_email) BETWEEN 3 AND 254),
                    note TEXT CHECK (note IS NULL OR char_length(note) <= 500),
                    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
                    cancel_token_hash TEXT NOT NULL,
                    idempotency_key TEXT UNIQUE,
                    request_fingerprint TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    updated_at TIMESTAMPTZ NOT NULL,
                    cancelled_at TIMESTAMPTZ,
                    CHECK (slot_end > slot_start),
                    CHECK (occupied_start <= slot_start AND occupied_end >= slot_end),
                    CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
                        resource WITH =, tstzrange(occupied_start, occupied_end, '[)') WITH &&
                    ) WHERE (status = 'booked')
                )
                """,
                "CREATE INDEX appointments_by_slot_start ON appointments (slot_start, id)",
                """
                CREATE TABLE notifications (
                    id BIGSERIAL PRIMARY KEY,
                    appointment_id BIGINT NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('booked', 'cancelled')),
                    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                    next_attempt_at TIMESTAMPTZ NOT NULL,
                    lease_owner TEXT,
                    lease_expires_at TIMESTAMPTZ,
                    error TEXT,
                    created_at TIMESTAMPTZ NOT NULL,
                    updated_at TIMESTAMPTZ NOT NULL,
                    sent_at TIMESTAMPTZ,
                    UNIQUE (appointment_id, kind)
                )
                """,
                "CREATE INDEX notifications_due ON notifications (next_attempt_at, id) WHERE status = 'pending'",
            ]),
        Migration(
            version: 2, name: "sealed cancel tokens",
            statements: [
                // Replays return the cancel token sealed under the idempotency key, so the key itself is no
                // longer stored: existing keys become their SHA-256 form (AppointmentRecord.storedIdempotencyKey).
                "ALTER TABLE appointments ADD COLUMN sealed_cancel_token TEXT",
                """
                UPDATE appointments
                SET idempotency_key = encode(sha256(convert_to('idempotency-key:' || idempotency_key, 'UTF8')), 'hex')
                WHERE idempotency_key IS NOT NULL
                """,
            ]),
        Migration(
            version: 3, name: "reschedule",
            statements: [
                // A move raises the appointment's sequence; notifications are unique per (appointment, kind,
                // sequence), and a `rescheduled` one keeps the slot the appointment left.
                "ALTER TABLE appointments ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0 CHECK (sequence >= 0)",
                """
                ALTER TABLE notifications
                    ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0 CHECK (sequence >= 0),
                    ADD COLUMN previous_slot_start TIMESTAMPTZ,
                    ADD COLUMN previous_slot_end TIMESTAMPTZ,
                    DROP CONSTRAINT notifications_kind_check,
                    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('booked', 'cancelled', 'rescheduled')),
                    ADD CONSTRAINT notifications_previous_slot_check CHECK (
                        (kind = 'rescheduled') = (previous_slot_start IS NOT NULL AND previous_slot_end IS NOT NULL)),
                    DROP CONSTRAINT notifications_appointment_id_kind_key,
                    ADD CONSTRAINT notifications_appointment_id_kind_sequence_key UNIQUE (appointment_id, kind, sequence)
                """,
                // Reschedule keys (their SHA-256 form) live apart from booking keys.
                """
                CREATE TABLE reschedule_keys (
                    idempotency_key TEXT PRIMARY KEY,
                    appointment_id BIGINT NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
                    request_fingerprint TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL
                )
                """,
            ]),
        Migration(
            version: 4, name: "reminders",
            statements: [
                // Reminders: kind `reminder` with its lead in seconds (0 for every other kind), notifications unique
                // per (appointment, kind, sequence, lead), and the terminal status `obsolete`. Existing rows keep
                // their ids and get lead 0.
                """
                ALTER TABLE notifications
                    ADD COLUMN reminder_lead_seconds INTEGER NOT NULL DEFAULT 0 CHECK (reminder_lead_seconds >= 0),
                    DROP CONSTRAINT notifications_kind_check,
                    ADD CONSTRAINT notifications_kind_check
                        CHECK (kind IN ('booked', 'cancelled', 'rescheduled', 'reminder')),
                    ADD CONSTRAINT notifications_reminder_lead_check CHECK ((kind = 'reminder') = (reminder_lead_seconds > 0)),
                    DROP CONSTRAINT notifications_status_check,
                    ADD CONSTRAINT notifications_status_check CHECK (status IN ('pending', 'sent', 'failed', 'obsolete')),
                    DROP CONSTRAINT notifications_appointment_id_kind_sequence_key,
                    ADD CONSTRAINT notifications_appointment_id_kind_sequence_lead_key
                        UNIQUE (appointment_id, kind, sequence, reminder_lead_seconds)
                """
            ]),
        Migration(
            version: 5, name: "capacity, booking limits and holds",
            statements: [
                // Seats: booked rows of one slot (same start) may share their occupied interval; rows of different
                // overlapping slots stay excluded. Existing rows never overlap, so they satisfy the looser rule.
                """
                ALTER TABLE appointments
                    DROP CONSTRAINT appointments_no_overlap,
                    ADD CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
                        resource WITH =, tstzrange(occupied_start, occupied_end, '[)') WITH &&, slot_start WITH <>
                    ) WHERE (status = 'booked')
                """,
                // The seats of a slot and the bookings of a day or week: booked rows by (resource, slot start).
                """
                CREATE INDEX appointments_booked_by_resource_slot
                    ON appointments (resource, slot_start) WHERE status = 'booked'
                """,
                // A hold takes one seat until it expires; lapsed rows are deleted by whoever needs their slot.
                """
                CREATE TABLE slot_holds (
                    token_hash TEXT PRIMARY KEY,
                    resource TEXT NOT NULL,
                    slot_start TIMESTAMPTZ NOT NULL,
                    slot_end TIMESTAMPTZ NOT NULL,
                    occupied_start TIMESTAMPTZ NOT NULL,
                    occupied_end TIMESTAMPTZ NOT NULL,
                    expires_at TIMESTAMPTZ NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    CHECK (slot_end > slot_start),
                    CHECK (occupied_start <= slot_start AND occupied_end >= slot_end)
                )
                """,
                """
                CREATE INDEX slot_holds_by_occupied
                    ON slot_holds USING gist (resource, tstzrange(occupied_start, occupied_end, '[)'))
                """,
                "CREATE INDEX slot_holds_by_resource_slot ON slot_holds (resource, slot_start)",
                "CREATE INDEX slot_holds_by_expiry ON slot_holds (resource, expires_at)",
            ]),
        Migration(
            version: 6, name: "overlap checks through the exclusion constraint's index",
            statements: [
                // The claim statements are planned once per connection (a generic plan). Planned while the table
                // was small, the check of booked rows overlapping a slot took this B-tree on `resource` alone and
                // then filtered every booked row of the resource, on every booking, for the connection's life.
                // Without it, the overlap check can only use the exclusion constraint's GiST index (resource and
                // occupied interval); seats and period counts use that index or `appointments_by_slot_start`
                // (schema 12's index is read by the resource's hash: see migration 12).
                "DROP INDEX IF EXISTS appointments_booked_by_resource_slot"
            ]),
        Migration(
            version: 7, name: "a booking in one statement",
            statements: [PostgresQuery(unsafeSQL: InsertProcedure.version1)]),
        Migration(
            version: 8, name: "a booking in one round trip",
            statements: [PostgresQuery(unsafeSQL: InsertProcedure.version2)]),
        Migration(
            version: 9, name: "seats, and a booking's first try at an empty slot",
            statements: [
                // Every booked appointment holds a seat of its slot (its start), unique among the slot's booked
                // appointments: two takers of one empty slot both want seat 0 and meet at the index, so a booking
                // can take an empty slot's first seat without the slot's lock (see InsertProcedure). Existing
                // booked appointments of a slot are numbered 0, 1, ... in the order they were booked. The index
                // leads with `slot_start` (see migration 6), yet a generic plan made on a nearly empty table may
                // still read all of it for a resource alone (see migration 10).
                "ALTER TABLE appointments ADD COLUMN seat INTEGER NOT NULL DEFAULT 0 CHECK (seat >= 0)",
                """
                UPDATE appointments SET seat = numbered.seat
                FROM (
                    SELECT id, (row_number() OVER (PARTITION BY resource, slot_start ORDER BY id) - 1)::INTEGER AS seat
                    FROM appointments WHERE status = 'booked'
                ) AS numbered
                WHERE appointments.id = numbered.id AND numbered.seat > 0
                """,
                """
                CREATE UNIQUE INDEX appointments_seats ON appointments (slot_start, resource, seat)
                    WHERE status = 'booked'
                """,
                PostgresQuery(unsafeSQL: InsertProcedure.version3),
            ]),
        Migration(
            version: 10, name: "a booking's first try refused by the database's own indexes",
            statements: [
                // The first try leaves other slots to the exclusion constraint (`ON CONFLICT DO NOTHING`) instead
                // of a probe that a generic plan made on a nearly empty table answered from the seat index, every
                // booked row of the resource: see `ClaimSQL.firstSeatInsert`.
                PostgresQuery(unsafeSQL: InsertProcedure.version4)
            ]),
        Migration(
            version: 11, name: "the first tries of bookings that arrive together, in one call",
            statements: [
                // Bookings without a key, a hold or limits try their first seats together: one call and one commit
                // for the bookings that arrive while other calls run (see `FirstSeatBatcher`).
                PostgresQuery(unsafeSQL: FirstSeatsProcedure.version1)
            ]),
        Migration(
            version: 12, name: "the no-overlap constraint compares a hash of the resource first",
            statements: [
                // A GiST search or insert compares its key with every entry of each page it reads, column by
                // column. The resource's name came first: at every entry a text to detoast and collate, and with
                // one resource (or a few) it told no entry apart. An 8-byte hash of the name first, then the
                // interval, then the name itself (in the C collation: byte equality, which is what equality is
                // under any deterministic collation, so the constraint excludes what it excluded) took a quarter
                // off PostgreSQL's time per booking at 100,000 bookings (BENCHMARKS.md, session 14). The index is
                // rebuilt under the table's lock (3.7 s for 100,000 booked rows here): bookings and reads wait for
                // it up to the store's lock and statement timeouts.
                """
                ALTER TABLE appointments
                    DROP CONSTRAINT appointments_no_overlap,
                    ADD CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
                        hashtextextended(resource, 0) WITH =, tstzrange(occupied_start, occupied_end, '[)') WITH &&,
                        resource COLLATE "C" WITH =, slot_start WITH <>
                    ) WHERE (status = 'booked')
                """,
                // The claim's probes name the hash too (`ClaimSQL.bookedOfResource`), so they keep to the
                // resource's entries; booking_insert_v4 stays for processes of schema 11 during an upgrade.
                PostgresQuery(unsafeSQL: InsertProcedure.version5),
            ]),
        Migration(
            version: 13, name: "the first tries made together search the no-overlap index twice, not three times",
            statements: [
                // The seat index alone arbitrates the conflict, so the exclusion constraint is checked as for any
                // insert; an overlapping booking, or a lock wait of over 10 ms (another writer's row in the way),
                // undoes that insert and the call tries again as version 1 did (see `FirstSeatsProcedure`).
                // booking_first_seats_v1 stays for processes of schema 12 during an upgrade.
                PostgresQuery(unsafeSQL: FirstSeatsProcedure.version2)
            ]),
    ]

    /// Applies the missing migrations in one transaction under an advisory lock, so two processes
    /// starting at once take turns and the second finds nothing to do. Returns the versions applied now.
    ///
    /// A database already up to date is only read (no lock, no DDL), so an application role without
    /// the right to create tables may call it once the schema was migrated by another role.
    /// A database already migrated by a newer version (a schema version this code does not know) is
    /// refused with `storeUnavailable`, and nothing is changed.
    @discardableResult
    public func applyPendingMigrations() async throws(BookingError) -> [Int] {
        let recorded = try await perform { [logger] connection -> Set<Int>? in
            let exists = try await connection.query(
                "SELECT to_regclass('booking_schema_migrations') IS NOT NULL", logger: logger
            ).collect().first?.decode(Bool.self)
            guard exists == true else { return nil }
            var versions: Set<Int> = []
            for try await version in try await connection.query(
                "SELECT version FROM booking_schema_migrations", logger: logger
            ).decode(Int.self) {
                versions.insert(version)
            }
            return versions
        }
        if let recorded {
            try Self.refuseNewerSchema(recorded)
            if recorded.isSuperset(of: Self.migrations.map(\.version)) { return [] }
        }
        return try await applyMigrationsUnderLock()
    }

    /// Throws when `applied` holds a version newer than every migration this code knows.
    private static func refuseNewerSchema(_ applied: Set<Int>) throws(BookingError) {
        if let newest = applied.max(), newest > migrations.map(\.version).max() ?? 0 {
            throw BookingError.storeUnavailable(
                "the database was migrated by a newer version of swift-booking (schema \(newest)); upgrade this application to use it"
            )
        }
    }

    /// The migration transaction: lock, read what is applied, apply the rest.
    private func applyMigrationsUnderLock() async throws(BookingError) -> [Int] {
        try await performTransaction(unbounded: true) { [logger] connection in
            // A second process waits for the first one's migrations however long they take: no
            // statement or lock timeout inside this transaction.
            try await Self.execute("SET LOCAL statement_timeout = 0", on: connection, logger: logger)
            try await Self.execute("SET LOCAL lock_timeout = 0", on: connection, logger: logger)
            try await Self.execute(
                "SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))", on: connection, logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS booking_schema_migrations (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: logger)
            var applied: Set<Int> = []
            for try await version in try await connection.query(
                "SELECT version FROM booking_schema_migrations", logger: logger
            )
            .decode(Int.self) {
                applied.insert(version)
            }
            try Self.refuseNewerSchema(applied)
            var appliedNow: [Int] = []
            for migration in Self.migrations where !applied.contains(migration.version) {
                for statement in migration.statements { try await connection.query(statement, logger: logger) }
                try await connection.query(
                    "INSERT INTO booking_schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger)
                appliedNow.append(migration.version)
            }
            return appliedNow
        }
    }

    /// The versions recorded in `booking_schema_migrations`, ascending.
    public func appliedMigrations() async throws(BookingError) -> [Int] {
        try await perform { [logger] connection in
            var versions: [Int] = []
            for try await version in try await connection.query(
                "SELECT version FROM booking_schema_migrations ORDER BY version", logger: logger
            )
            .decode(Int.self) {
                versions.append(version)
            }
            return versions
        }
    }
}
