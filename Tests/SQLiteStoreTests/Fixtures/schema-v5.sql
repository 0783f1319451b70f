-- A database made by SQLiteStore schema v5 (migrations v1-appointments-and-notifications to v5-reminders):
-- their SQL as committed before v6, then rows as SQLiteStore v5 writes them (a booking with 10-minute
-- buffers and a sealed token, a cancelled one, a moved one with its reminders, one on another resource),
-- dumped with Python sqlite3 iterdump. SQLiteStoreTests loads it to check the upgrade to v6.
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
                        cancelled_at INTEGER, sealed_cancel_token TEXT, sequence INTEGER NOT NULL DEFAULT 0 CHECK (sequence >= 0),
                        CHECK (slot_end > slot_start),
                        CHECK (occupied_start <= slot_start AND occupied_end >= slot_end)
                    );
INSERT INTO "appointments" VALUES(1,'default',1803805200000,1803807000000,1803804600000,1803807600000,'Ada Lovelace','ada@example.com','buffers of 10 min','booked','aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa','bce08711766063ecfe1c32d70772298cc2aaca9c7b8d5217f5f1e850a4c7c12a','fp-1',1803801600000,1803801600000,NULL,'sealed-v5',0);
INSERT INTO "appointments" VALUES(2,'default',1803808800000,1803810600000,1803808800000,1803810600000,'Grace Hopper','grace@example.com',NULL,'cancelled','bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',NULL,'fp-2',1803801600001,1803801900000,1803801900000,NULL,1);
INSERT INTO "appointments" VALUES(3,'default',1803812400000,1803814200000,1803812400000,1803814200000,'Linus Torvalds','linus@example.com',NULL,'booked','cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc',NULL,'fp-3',1803801600002,1803801960000,NULL,NULL,1);
INSERT INTO "appointments" VALUES(4,'room-2',1803805200000,1803807000000,1803805200000,1803807000000,'Barbara Liskov','barbara@example.com',NULL,'booked','dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd',NULL,'fp-4',1803801600003,1803801600003,NULL,NULL,0);
CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
INSERT INTO "grdb_migrations" VALUES('v1-appointments-and-notifications');
INSERT INTO "grdb_migrations" VALUES('v2-listing-index');
INSERT INTO "grdb_migrations" VALUES('v3-sealed-cancel-tokens');
INSERT INTO "grdb_migrations" VALUES('v4-reschedule');
INSERT INTO "grdb_migrations" VALUES('v5-reminders');
CREATE TABLE "notifications" (
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
INSERT INTO "notifications" VALUES(1,1,'booked',0,0,NULL,NULL,'sent',1,1803801600000,NULL,NULL,NULL,1803801600000,1803801601000,1803801601000);
INSERT INTO "notifications" VALUES(2,1,'reminder',0,3600,NULL,NULL,'pending',0,1803801600000,NULL,NULL,NULL,1803801600000,1803801600000,NULL);
INSERT INTO "notifications" VALUES(3,2,'booked',0,0,NULL,NULL,'sent',1,1803801600001,NULL,NULL,NULL,1803801600001,1803801601000,1803801601000);
INSERT INTO "notifications" VALUES(4,2,'cancelled',1,0,NULL,NULL,'pending',0,1803801900000,NULL,NULL,NULL,1803801900000,1803801900000,NULL);
INSERT INTO "notifications" VALUES(5,3,'booked',0,0,NULL,NULL,'sent',1,1803801600002,NULL,NULL,NULL,1803801600002,1803801601000,1803801601000);
INSERT INTO "notifications" VALUES(6,3,'reminder',0,3600,NULL,NULL,'obsolete',0,1803812400000,NULL,NULL,NULL,1803801600002,1803801960000,NULL);
INSERT INTO "notifications" VALUES(7,3,'rescheduled',1,0,1803816000000,1803817800000,'pending',0,1803801960000,NULL,NULL,NULL,1803801960000,1803801960000,NULL);
INSERT INTO "notifications" VALUES(8,3,'reminder',1,3600,NULL,NULL,'pending',0,1803808800000,NULL,NULL,NULL,1803801960000,1803801960000,NULL);
INSERT INTO "notifications" VALUES(9,4,'booked',0,0,NULL,NULL,'failed',10,1803801600003,NULL,NULL,'HTTP 500',1803801600003,1803802140000,NULL);
CREATE TABLE reschedule_keys (
                        idempotency_key TEXT PRIMARY KEY,
                        appointment_id INTEGER NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
                        request_fingerprint TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
INSERT INTO "reschedule_keys" VALUES('eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee',3,'fp-move',1803801960000);
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
CREATE INDEX appointments_by_slot_start ON appointments (slot_start, id);
CREATE INDEX notifications_due ON notifications (next_attempt_at, id) WHERE status = 'pending';
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('appointments',4);
INSERT INTO "sqlite_sequence" VALUES('notifications',9);
COMMIT;
