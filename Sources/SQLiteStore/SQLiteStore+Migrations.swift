import BookingDomain
import GRDB

extension SQLiteStore {
    /// The versioned schema. Applied in `BEGIN IMMEDIATE` transactions, so two processes opening
    /// one file at once take turns and the second finds the work done.
    ///
    /// Instants are INTEGER milliseconds since 1970-01-01T00:00:00Z (UTC): exact at millisecond
    /// precision, independent of the process's time zone, and they sort as numbers.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-appointments-and-notifications") { db in
            try db.execute(
                sql: """
                    CREATE TABLE appointments (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        resource TEXT NOT NULL,
                        slot_start INTEGER NOT NULL,
                        slot_end INTEGER NOT NULL,
                        occupied_start INTEGER NOT NULL,
                        occupied_end INTEGER NOT NULL,
                        customer_name TEXT NOT NULL CHECK (length(customer_name) BETWEEN 1 AND 200),
                        customer_email TEXT NOT NULL CHECK (length(customer_email) BETWEEN 3 AND 254),
                        note TEXT CHECK (note IS NULL OR length(note) <= 500),
                        status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
                        cancel_token_hash TEXT NOT NULL,
                        idempotency_key TEXT UNIQUE,
                        request_fingerprint TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        cancelled_at INTEGER,
                        CHECK (slot_end > slot_start),
                        CHECK (occupied_start <= slot_start AND occupied_end >= slot_end)
                    );
                    CREATE INDEX appointments_booked_by_resource
                        ON appointments (resource, occupied_start) WHERE status = 'booked';

                    -- The no-overlap invariant, in the database: booked occupied intervals of one resource
                    -- are disjoint, so only the booked row with the greatest occupied_start before the new
                    -- end can overlap (one index probe, O(log n)).
                    CREATE TRIGGER appointments_no_overlap_on_insert
                    BEFORE INSERT ON appointments WHEN NEW.status = 'booked'
                    BEGIN
                        SELECT RAISE(ABORT, 'booking_overlap') WHERE EXISTS (
                            SELECT 1 FROM (
                                SELECT occupied_end FROM appointments
                                WHERE resource = NEW.resource AND status = 'booked' AND occupied_start < NEW.occupied_end
                                ORDER BY occupied_start DESC LIMIT 1
                            ) WHERE occupied_end > NEW.occupied_start);
                    END;
                    CREATE TRIGGER appointments_no_overlap_on_update
                    BEFORE UPDATE OF status, resource, occupied_start, occupied_end ON appointments
                    WHEN NEW.status = 'booked'
                    BEGIN
                        SELECT RAISE(ABORT, 'booking_overlap') WHERE EXISTS (
                            SELECT 1 FROM (
                                SELECT occupied_end FROM appointments
                                WHERE resource = NEW.resource AND status = 'booked' AND occupied_start < NEW.occupied_end
                                    AND id <> NEW.id
                                ORDER BY occupied_start DESC LIMIT 1
                            ) WHERE occupied_end > NEW.occupied_start);
                    END;

                    CREATE TABLE notifications (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        appointment_id INTEGER NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
                        kind TEXT NOT NULL CHECK (kind IN ('booked', 'cancelled')),
                        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
                        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                        next_attempt_at INTEGER NOT NULL,
                        lease_owner TEXT,
                        lease_expires_at INTEGER,
                        error TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        sent_at INTEGER,
                        UNIQUE (appointment_id, kind)
                    );
                    CREATE INDEX notifications_due ON notifications (next_attempt_at, id) WHERE status = 'pending';
                    """)
        }
        migrator.registerMigration("v2-listing-index") { db in
            // Listing is ordered by slot_start, then id: serve it from an index instead of a sort.
            try db.execute(sql: "CREATE INDEX appointments_by_slot_start ON appointments (slot_start, id)")
        }
        migrator.registerMigration("v3-sealed-cancel-tokens") { db in
            // Replays return the cancel token sealed under the idempotency key, so the key itself is
            // no longer stored: existing keys become their SHA-256 form.
            try db.execute(sql: "ALTER TABLE appointments ADD COLUMN sealed_cancel_token TEXT")
            let keyed = try Row.fetchAll(
                db, sql: "SELECT id, idempotency_key FROM appointments WHERE idempotency_key IS NOT NULL")
            for row in keyed {
                let key: String = row["idempotency_key"]
                try db.execute(
                    sql: "UPDATE appointments SET idempotency_key = ? WHERE id = ?",
                    arguments: [AppointmentRecord.storedIdempotencyKey(for: key), row["id"] as Int64])
            }
        }
        migrator.registerMigration("v4-reschedule") { db in
            // Reschedules: the appointment's sequence, notifications unique per (appointment, kind, sequence)
            // with the previous slot of a move, and reschedule keys apart from booking keys. SQLite cannot
            // change a table's constraints, so notifications are copied into a new table (ids kept, and
            // AUTOINCREMENT's high-water mark with them). The overlap trigger on UPDATE from v1 already
            // ignores the row itself, so a move may overlap its own old interval and no other.
            try db.execute(
                sql: """
                    ALTER TABLE appointments ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0 CHECK (sequence >= 0);

                    CREATE TABLE notifications_v4 (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        appointment_id INTEGER NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
                        kind TEXT NOT NULL CHECK (kind IN ('booked', 'cancelled', 'rescheduled')),
                        sequence INTEGER NOT NULL DEFAULT 0 CHECK (sequence >= 0),
                        previous_slot_start INTEGER,
                        previous_slot_end INTEGER,
                        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
                        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                        next_attempt_at INTEGER NOT NULL,
                        lease_owner TEXT,
                        lease_expires_at INTEGER,
                        error TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        sent_at INTEGER,
                        UNIQUE (appointment_id, kind, sequence),
                        CHECK ((kind = 'rescheduled') = (previous_slot_start IS NOT NULL AND previous_slot_end IS NOT NULL))
                    );
                    INSERT INTO notifications_v4 (id, appointment_id, kind, status, attempts, next_attempt_at, lease_owner,
                        lease_expires_at, error, created_at, updated_at, sent_at)
                    SELECT id, appointment_id, kind, status, attempts, next_attempt_at, lease_owner, lease_expires_at, error,
                        created_at, updated_at, sent_at
                    FROM notifications;
                    -- AUTOINCREMENT's high-water mark carries over: an id handed out once (a webhook-id) never returns.
                    DELETE FROM sqlite_sequence WHERE name = 'notifications_v4';
                    INSERT INTO sqlite_sequence (name, seq) SELECT 'notifications_v4', seq FROM sqlite_sequence
                    WHERE name = 'notifications';
                    DROP TABLE notifications;
                    ALTER TABLE notifications_v4 RENAME TO notifications;
                    CREATE INDEX notifications_due ON notifications (next_attempt_at, id) WHERE status = 'pending';

                    CREATE TABLE reschedule_keys (
                        idempotency_key TEXT PRIMARY KEY,
                        appointment_id INTEGER NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
                        request_fingerprint TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v5-reminders") { db in
            // Reminders: kind `reminder` with its lead in seconds (0 for every other kind), notifications
            // unique per (appointment, kind, sequence, lead), and the terminal status `obsolete`. Copied
            // into a new table like v4 (ids kept, and AUTOINCREMENT's high-water mark with them); existing rows
            // keep lead 0.
            try db.execute(
                sql: """
                    CREATE TABLE notifications_v5 (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        appointment_id INTEGER NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
                        kind TEXT NOT NULL CHECK (kind IN ('booked', 'cancelled', 'rescheduled', 'reminder')),
                        sequence INTEGER NOT NULL DEFAULT 0 CHECK (sequence >= 0),
                        reminder_lead_seconds INTEGER NOT NULL DEFAULT 0 CHECK (reminder_lead_seconds >= 0),
                        previous_slot_start INTEGER,
                        previous_slot_end INTEGER,
                        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'obsolete')),
                        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                        next_attempt_at INTEGER NOT NULL,
                        lease_owner TEXT,
                        lease_expires_at INTEGER,
                        error TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        sent_at INTEGER,
                        UNIQUE (appointment_id, kind, sequence, reminder_lead_seconds),
                        CHECK ((kind = 'rescheduled') = (previous_slot_start IS NOT NULL AND previous_slot_end IS NOT NULL)),
                        CHECK ((kind = 'reminder') = (reminder_lead_seconds > 0))
                    );
                    INSERT INTO notifications_v5 (id, appointment_id, kind, sequence, previous_slot_start, previous_slot_end,
                        status, attempts, next_attempt_at, lease_owner, lease_expires_at, error, created_at, updated_at,
                        sent_at)
                    SELECT id, appointment_id, kind, sequence, previous_slot_start, previous_slot_end, status, attempts,
                        next_attempt_at, lease_owner, lease_expires_at, error, created_at, updated_at, sent_at
                    FROM notifications;
                    -- AUTOINCREMENT's high-water mark carries over: an id handed out once (a webhook-id) never returns.
                    DELETE FROM sqlite_sequence WHERE name = 'notifications_v5';
                    INSERT INTO sqlite_sequence (name, seq) SELECT 'notifications_v5', seq FROM sqlite_sequence
                    WHERE name = 'notifications';
                    DROP TABLE notifications;
                    ALTER TABLE notifications_v5 RENAME TO notifications;
                    CREATE INDEX notifications_due ON notifications (next_attempt_at, id) WHERE status = 'pending';
                    """)
        }
        migrator.registerMigration("v6-capacity-and-holds") { db in
            // Capacity: booked rows of one slot (equal slot_start and slot_end) may share it, so the overlap
            // triggers now refuse only a booked row whose occupied interval overlaps one of a different slot.
            // Holds: one seat of a slot taken until expires_at, in their own table. How many seats a slot has and
            // the day and week limits come with each request, so they are checked by the writing transaction
            // (BEGIN IMMEDIATE serialises every writer of the file); the triggers stay the backstop that keeps
            // different slots apart whoever writes the row.
            try db.execute(
                sql: """
                    -- The seats of a slot, and the bookings of a day or week counted from the index alone (status is
                    -- there for SQLite to see the index covers the count).
                    CREATE INDEX appointments_booked_by_slot
                        ON appointments (resource, slot_start, status) WHERE status = 'booked';

                    CREATE TABLE slot_holds (
                        token_hash TEXT PRIMARY KEY,
                        resource TEXT NOT NULL,
                        slot_start INTEGER NOT NULL,
                        slot_end INTEGER NOT NULL,
                        occupied_start INTEGER NOT NULL,
                        occupied_end INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        CHECK (slot_end > slot_start),
                        CHECK (occupied_start <= slot_start AND occupied_end >= slot_end),
                        -- 72 hours (SQLiteStore.longestHeldInterval): reads look back this far for a hold
                        -- reaching into their window.
                        CHECK (occupied_end - occupied_start <= 259200000)
                    );
                    CREATE INDEX slot_holds_by_occupied_start ON slot_holds (resource, occupied_start);
                    CREATE INDEX slot_holds_by_slot_start ON slot_holds (resource, slot_start);
                    CREATE INDEX slot_holds_by_expiry ON slot_holds (expires_at);

                    -- Booked rows of different slots of one resource never overlap, while the seats of one slot all
                    -- contain it: each slot's rows form a group, and the groups are disjoint and ordered in time.
                    -- So a different slot overlapping NEW can only be the group of the latest-starting booked row
                    -- of another slot that starts before NEW ends (found by an index probe that skips the at most
                    -- `capacity` rows of NEW's own slot), and that group is read by an index seek on its slot_start
                    -- (its rows may differ in buffers, so each is tested): O(log n + capacity). The unary + keeps
                    -- the planner on the slot index for that seek instead of a range scan of every earlier row.
                    DROP TRIGGER appointments_no_overlap_on_insert;
                    CREATE TRIGGER appointments_no_overlap_on_insert
                    BEFORE INSERT ON appointments WHEN NEW.status = 'booked'
                    BEGIN
                        SELECT RAISE(ABORT, 'booking_overlap') WHERE EXISTS (
                            SELECT 1 FROM appointments
                            WHERE resource = NEW.resource AND status = 'booked'
                                AND slot_start = (
                                    SELECT slot_start FROM appointments
                                    WHERE resource = NEW.resource AND status = 'booked'
                                        AND occupied_start < NEW.occupied_end
                                        AND NOT (slot_start = NEW.slot_start AND slot_end = NEW.slot_end)
                                    ORDER BY occupied_start DESC LIMIT 1)
                                AND NOT (slot_start = NEW.slot_start AND slot_end = NEW.slot_end)
                                AND +occupied_start < NEW.occupied_end AND +occupied_end > NEW.occupied_start);
                    END;
                    DROP TRIGGER appointments_no_overlap_on_update;
                    CREATE TRIGGER appointments_no_overlap_on_update
                    BEFORE UPDATE OF status, resource, slot_start, slot_end, occupied_start, occupied_end ON appointments
                    WHEN NEW.status = 'booked'
                    BEGIN
                        SELECT RAISE(ABORT, 'booking_overlap') WHERE EXISTS (
                            SELECT 1 FROM appointments
                            WHERE resource = NEW.resource AND status = 'booked' AND id <> NEW.id
                                AND slot_start = (
                                    SELECT slot_start FROM appointments
                                    WHERE resource = NEW.resource AND status = 'booked'
                                        AND occupied_start < NEW.occupied_end
                                        AND NOT (slot_start = NEW.slot_start AND slot_end = NEW.slot_end)
                                        AND id <> NEW.id
                                    ORDER BY occupied_start DESC LIMIT 1)
                                AND NOT (slot_start = NEW.slot_start AND slot_end = NEW.slot_end)
                                AND +occupied_start < NEW.occupied_end AND +occupied_end > NEW.occupied_start);
                    END;
                    """)
        }
        return migrator
    }
}
