-- A database made by SQLiteStore schema v1 (migration v1-appointments-and-notifications),
-- dumped with Python sqlite3 iterdump. SQLiteStoreTests loads it to check the upgrade.
BEGIN TRANSACTION;
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
INSERT INTO "appointments" VALUES(1,'default',1803805200000,1803807000000,1803805200000,1803807000000,'Ada Lovelace','ada@example.com','first','booked','aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa','fixture-key','fixture-fingerprint',1803801600000,1803801600000,NULL);
INSERT INTO "appointments" VALUES(2,'default',1803808800000,1803810600000,1803808800000,1803810600000,'Grace Hopper','grace@example.com',NULL,'cancelled','bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',NULL,'fixture-fingerprint-2',1803801600123,1803802000000,1803802000000);
CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
INSERT INTO "grdb_migrations" VALUES('v1-appointments-and-notifications');
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
INSERT INTO "notifications" VALUES(1,1,'booked','sent',1,1803801600000,NULL,NULL,NULL,1803801600000,1803801601000,1803801601000);
INSERT INTO "notifications" VALUES(2,2,'booked','sent',1,1803801600123,NULL,NULL,NULL,1803801600123,1803801601000,1803801601000);
INSERT INTO "notifications" VALUES(3,2,'cancelled','failed',10,1803802000000,NULL,NULL,'HTTP 410',1803802000000,1803803000000,NULL);
CREATE INDEX appointments_booked_by_resource
    ON appointments (resource, occupied_start) WHERE status = 'booked';
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
CREATE INDEX notifications_due ON notifications (next_attempt_at, id) WHERE status = 'pending';
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('appointments',2);
INSERT INTO "sqlite_sequence" VALUES('notifications',3);
COMMIT;
