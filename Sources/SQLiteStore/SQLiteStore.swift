public import BookingDomain
public import Foundation
import GRDB
import GRDBSQLite

/// A `BookingStore` in one SQLite file, on GRDB: the embedded default.
///
/// ```swift
/// let store = try SQLiteStore(location: .file("booking.sqlite"))
/// let service = BookingService(store: store)
/// ```
///
/// - The file is opened in WAL mode (readers never block the writer) with a busy timeout, foreign
///   keys on, and `synchronous=FULL` by default: a booking reported as made survives a power cut,
///   which is worth the extra fsync for appointments (choose `.normal` to trade that for speed).
/// - Every write is a `BEGIN IMMEDIATE` transaction, which serialises the writers of the file across
///   processes: a booking, a move or a hold reads the seats, holds and period counts it needs and
///   applies `BookingRules` inside it. Triggers refuse, whoever writes the row, a booked row whose
///   occupied interval overlaps one of a different slot of its resource (seats of one slot may
///   share it), so even two processes on one file cannot double-book.
/// - Instants are stored as INTEGER milliseconds since 1970 (UTC).
/// - The availability read (``occupants(resource:overlapping:now:)``) of a file database runs on read-only connections
///   of the store's own, on the calling thread, with its one statement prepared once per connection (through GRDB's
///   readers when they are all reading or the file is locked).
/// - Migrations are versioned (`grdb_migrations`) and run when the store opens.
public final class SQLiteStore: BookingStore {
    /// Where the database lives.
    public enum Location: Hashable, Sendable {
        /// A file, created when absent.
        case file(String)
        /// A private in-memory database, gone when the store is released.
        case inMemory
    }

    /// How durable each commit is: SQLite's `synchronous` pragma in WAL mode.
    public enum Durability: String, Hashable, Sendable {
        /// fsync on every commit: nothing acknowledged is lost on power failure (the default).
        case full = "FULL"
        /// fsync at checkpoints: the last commits may be lost on power failure, never corrupted.
        case normal = "NORMAL"
    }

    /// Tuning with sensible defaults.
    public struct Configuration: Sendable {
        /// How long a write waits for another process's lock before `storeUnavailable`: 10 ms to 24 h (a value
        /// outside counts as the nearest; SQLite takes its timeout in 32-bit milliseconds).
        public var busyTimeout: Duration
        /// Commit durability.
        public var durability: Durability
        /// Concurrent reader connections (file databases); the availability read opens up to as many of its own (at
        /// least one a core, so a store on a 64-core host may keep 64 more open, two or three file descriptors each) and
        /// keeps them open.
        public var maximumReaderCount: Int

        /// Creates a configuration: 5 s busy timeout, full durability, 5 readers.
        public init(busyTimeout: Duration = .seconds(5), durability: Durability = .full, maximumReaderCount: Int = 5) {
            self.busyTimeout = busyTimeout
            self.durability = durability
            self.maximumReaderCount = maximumReaderCount
        }
    }

    /// Where this store's database lives.
    public let location: Location
    private let writer: any DatabaseWriter
    private let busyTimeout: Duration
    /// The availability read's own connections, for a file database (a private in-memory one has none).
    let occupantsReader: OccupantsReader?
    private let signal = OutboxSignal()

    /// Opens (creating if needed) and migrates the database.
    ///
    /// Throws `storeUnavailable` when the file cannot be opened or migrated,
    /// or was migrated by a newer version of swift-booking (its schema is never touched then), or lacks a table or a
    /// no-overlap trigger though its migrations are recorded, and
    /// `invalidInput` for a file path that names no file (empty, or SQLite's `:memory:`: use ``Location/inMemory``).
    public convenience init(location: Location, configuration: Configuration = Configuration()) throws(BookingError) {
        try self.init(
            location: location, configuration: configuration,
            occupantsConnectionLimit: max(
                configuration.maximumReaderCount, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Opens the database as ``init(location:configuration:)`` does, with `occupantsConnectionLimit` connections of
    /// the availability read's own at most (0: every such read goes through GRDB, as tests of that way ask).
    init(location: Location, configuration: Configuration, occupantsConnectionLimit: Int) throws(BookingError) {
        if case .file(let path) = location, path.isEmpty || path == ":memory:" {
            throw .invalidInput(
                field: "location", "\(path.isEmpty ? "an empty path" : "':memory:'") names no file; use .inMemory")
        }
        let busyTimeout = min(max(configuration.busyTimeout, .milliseconds(10)), .seconds(86_400))
        var config = GRDB.Configuration()
        config.busyMode = .timeout(busyTimeout.seconds)
        config.foreignKeysEnabled = true
        config.maximumReaderCount = max(1, configuration.maximumReaderCount)
        self.location = location
        self.busyTimeout = busyTimeout
        writer = try Self.openAndMigrate(location, config, configuration.durability, within: busyTimeout)
        try Self.refuseDamagedSchema(writer)
        occupantsReader = try Self.occupantsReader(
            of: writer, location: location, connectionLimit: occupantsConnectionLimit)
    }

    deinit {
        occupantsReader?.close()  // before the writer: the last connection to close checkpoints the WAL
    }

    /// The reader of a file database, on the file SQLite opened (its absolute path, whatever the working directory
    /// becomes). The public initializer gives it a connection for each core at least: the server reads on its
    /// cooperative threads, one a core.
    private static func occupantsReader(
        of writer: any DatabaseWriter, location: Location, connectionLimit: Int
    ) throws(BookingError) -> OccupantsReader? {
        guard case .file = location else { return nil }
        do {
            let path = try writer.read { db in String(cString: sqlite3_db_filename(db.sqliteConnection, "main")) }
            return OccupantsReader(path: path, connectionLimit: connectionLimit)
        } catch {
            throw map(error)
        }
    }

    /// Sets `synchronous` on the writer's connection, the one that commits: once it is open, since GRDB's pool sets
    /// `NORMAL` as it switches the file to WAL, after any `prepareDatabase`.
    private static func setDurability(_ durability: Durability, of writer: any DatabaseWriter) throws {
        try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(durability.rawValue)") }
    }

    /// The writer's `synchronous` setting as SQLite reports it: 1 for `NORMAL`, 2 for `FULL`.
    func synchronousSetting() async throws(BookingError) -> Int {
        do {
            return try await writer.writeWithoutTransaction { db in
                try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 0
            }
        } catch {
            throw Self.map(error)
        }
    }

    /// What the store's rules stand on: its tables, and the triggers that keep booked intervals of different slots
    /// apart.
    private static let essentials = [
        ("table", "appointments"), ("table", "notifications"), ("table", "reschedule_keys"), ("table", "slot_holds"),
        ("trigger", "appointments_no_overlap_on_insert"), ("trigger", "appointments_no_overlap_on_update"),
    ]

    /// Throws `storeUnavailable` naming each of ``essentials`` the file lacks though its migrations are recorded (a
    /// partial restore, an object dropped by hand): no booking is taken without the rules that keep it safe.
    private static func refuseDamagedSchema(_ writer: any DatabaseWriter) throws(BookingError) {
        let missing: [String]
        do {
            missing = try writer.read { db in
                let present = Set(
                    try Row.fetchAll(db, sql: "SELECT type, name FROM sqlite_master").map { row -> String in
                        let type: String = row["type"]
                        let name: String = row["name"]
                        return "\(type) \(name)"
                    })
                return essentials.map { "\($0.0) \($0.1)" }.filter { !present.contains($0) }
            }
        } catch {
            throw map(error)
        }
        guard missing.isEmpty else {
            throw .storeUnavailable(
                "its schema is damaged: \(missing.joined(separator: ", ")) missing though every migration is recorded "
                    + "(a partial restore, or an object dropped by hand); restore the database from a backup")
        }
    }

    /// Opens and migrates, retrying a few times within `budget` (the busy timeout): when several processes open a new
    /// file at once, one may find the file locked while another switches it to WAL, or lose the race to apply a
    /// migration (its transaction rolls back and the retry finds the work done). A file another process keeps locked
    /// fails once its busy timeout has passed, not after every retry's.
    private static func openAndMigrate(
        _ location: Location, _ config: GRDB.Configuration, _ durability: Durability, within budget: Duration
    ) throws(BookingError) -> any DatabaseWriter {
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            do {
                let writer: any DatabaseWriter
                switch location {
                case .file(let path): writer = try DatabasePool(path: path, configuration: config)
                case .inMemory: writer = try DatabaseQueue(configuration: config)
                }
                try setDurability(durability, of: writer)
                if try writer.read({ db in try migrator.hasBeenSuperseded(db) }) {
                    throw newerSchema
                }
                try migrator.migrate(writer)
                return writer
            } catch let error as BookingError where error == newerSchema {
                throw error
            } catch {
                attempt += 1
                let mapped = map(error)
                guard attempt < 10, ContinuousClock.now - started < budget,
                    mapped.code == .storeUnavailable || mapped.code == .slotUnavailable
                else {
                    throw mapped
                }
                usleep(UInt32(20_000 * attempt))
            }
        }
    }

    /// The file was migrated by a newer version of swift-booking: opening it is refused, since this
    /// version cannot know what the newer schema expects.
    static let newerSchema = BookingError.storeUnavailable(
        "the database was migrated by a newer version of swift-booking; upgrade this application to open it")

    /// Closes the database connections; the store must not be used afterwards.
    ///
    /// GRDB's connections close first (when that throws, every connection stays open and the store keeps working);
    /// the availability read's own close last, and read-only connections do not checkpoint, so the write-ahead log
    /// may stay beside the file until the next open folds it in. Nothing in it is lost.
    public func close() throws(BookingError) {
        do { try writer.close() } catch { throw Self.map(error) }  // GRDB keeps every connection open when it throws
        occupantsReader?.close()
    }

    /// The names of the applied migrations, oldest first.
    public func appliedMigrations() async throws(BookingError) -> [String] {
        try await read { db in try Self.migrator.appliedMigrations(db) }
    }

    // MARK: - BookingStore

    /// Inserts the appointment with its `booked` and `reminder` notifications in one immediate transaction,
    /// which first checks the hold it uses, clears lapsed holds and applies `NewAppointment/rules` to the
    /// seats, holds and period counts it reads; the hold used is deleted with the insert.
    public func insert(_ new: NewAppointment) async throws(BookingError) -> InsertOutcome {
        try new.validate()
        do {
            let outcome = try await insertRow(new)
            if case .created = outcome { signal.signal() }
            return outcome
        } catch  where Self.refusalCodes.contains(error.code) {
            // A replay wins over every refusal; the transaction looks for the key first, and this covers a key
            // committed by another writer between that look and the insert.
            if let key = new.idempotencyKey, let existing = try await record(idempotencyKey: key) {
                return .existing(existing)
            }
            throw error
        }
    }

    /// The refusals of a booking that a replay of its idempotency key overrides.
    private static let refusalCodes: Set<BookingError.Code> = [
        .slotUnavailable, .alreadyBooked, .bookingLimitReached, .slotHeld, .holdExpired,
    ]

    private func insertRow(_ new: NewAppointment) async throws(BookingError) -> InsertOutcome {
        let slot = Self.rounded(new.slot)
        let occupied = Self.rounded(new.occupied)
        return try await write { db in
            if let key = new.idempotencyKey,
                let existing = try Row.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT \(Self.appointmentColumns) FROM appointments WHERE idempotency_key = ?"),
                    arguments: [key])
            {
                return .existing(try Self.record(existing))
            }
            let now = new.now.millisecondsSince1970
            if let hash = new.holdTokenHash {
                try Self.checkHold(db, tokenHash: hash, resource: new.resource, slot: slot, now: now)
            }
            try Self.deleteLapsedHolds(db, now: now)
            if let refusal = try Self.refusal(
                db, resource: new.resource, slot: slot, occupied: occupied, rules: new.rules, now: now,
                email: new.customerEmail, usingHold: new.holdTokenHash)
            {
                throw refusal
            }
            if let hash = new.holdTokenHash { try Self.deleteHold(db, tokenHash: hash) }
            try db.cachedStatement(
                sql: """
                    INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                        customer_email, note, status, cancel_token_hash, idempotency_key, request_fingerprint,
                        created_at, updated_at, sealed_cancel_token)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'booked', ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    new.resource.rawValue, new.slot.start.millisecondsSince1970, new.slot.end.millisecondsSince1970,
                    new.occupied.start.millisecondsSince1970, new.occupied.end.millisecondsSince1970, new.customerName,
                    new.customerEmail, new.note, new.cancelTokenHash, new.idempotencyKey, new.requestFingerprint, now,
                    now, new.sealedCancelToken,
                ])
            let id = db.lastInsertedRowID
            try Self.enqueue(db, .booked, appointmentID: id, now: now)
            try Self.enqueue(db, new.reminders, appointmentID: id, sequence: 0, now: now)
            guard let record = try Self.fetchRecord(db, id: id) else { throw BookingError.storeUnavailable() }
            return .created(record)
        }
    }

    /// Cancels in one immediate transaction: the sequence up by one, the `cancelled` notification, and the
    /// pending reminders obsolete; idempotent.
    public func cancel(id: Int64, now: Date) async throws(BookingError) -> CancelOutcome? {
        let outcome: CancelOutcome? = try await write { db in
            guard let record = try Self.fetchRecord(db, id: id) else { return nil }
            guard record.appointment.status == .booked else { return .alreadyCancelled(record.appointment) }
            let now = now.millisecondsSince1970
            try db.execute(
                sql: """
                    UPDATE appointments SET status = 'cancelled', cancelled_at = ?, updated_at = ?, sequence = sequence + 1
                    WHERE id = ?
                    """,
                arguments: [now, now, id])
            try Self.enqueue(
                db, .cancelled, appointmentID: id, now: now, sequence: record.appointment.sequence + 1)
            try Self.makeRemindersObsolete(db, appointmentID: id, now: now)
            return (try Self.fetchRecord(db, id: id)?.appointment).map(CancelOutcome.cancelled)
        }
        if case .cancelled = outcome { signal.signal() }
        return outcome
    }

    /// Moves a booked appointment in one immediate transaction with its `rescheduled` notification, key and
    /// reminders (the old slot's pending ones obsolete, the new slot's written).
    ///
    /// The transaction clears lapsed holds and applies `AppointmentMove/rules` to the new slot's seats, holds,
    /// period counts and its customer's email, the appointment itself left out (a move within one day never
    /// counts twice); the overlap trigger on UPDATE then checks the new occupied interval against the booked
    /// rows of other slots.
    public func reschedule(_ move: AppointmentMove) async throws(BookingError) -> RescheduleOutcome? {
        try move.validate()
        let slot = Self.rounded(move.slot)
        let occupied = Self.rounded(move.occupied)
        let outcome: RescheduleOutcome? = try await write { db in
            if let key = move.idempotencyKey, let existing = try Self.fetchReschedule(db, idempotencyKey: key) {
                return .existing(existing)
            }
            guard let record = try Self.fetchRecord(db, id: move.appointmentID) else { return nil }
            let current = record.appointment
            guard current.status == .booked else { throw BookingError.appointmentCancelled }
            let now = move.now.millisecondsSince1970
            if current.slot.start.millisecondsSince1970 == move.slot.start.millisecondsSince1970,
                current.slot.end.millisecondsSince1970 == move.slot.end.millisecondsSince1970
            {
                try Self.rememberReschedule(db, move, now: now)
                return .unchanged(current)
            }
            if move.onlyIfAlreadyThere {
                throw BookingError.slotNotOffered("the appointment moved meanwhile, and this slot is no longer offered")
            }
            try Self.deleteLapsedHolds(db, now: now)
            if let refusal = try Self.refusal(
                db, resource: current.resource, slot: slot, occupied: occupied, rules: move.rules, now: now,
                email: current.customerEmail, movingAppointment: move.appointmentID)
            {
                throw refusal
            }
            try db.execute(
                sql: """
                    UPDATE appointments SET slot_start = ?, slot_end = ?, occupied_start = ?, occupied_end = ?,
                        sequence = sequence + 1, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    move.slot.start.millisecondsSince1970, move.slot.end.millisecondsSince1970,
                    move.occupied.start.millisecondsSince1970, move.occupied.end.millisecondsSince1970, now,
                    move.appointmentID,
                ])
            try Self.enqueue(
                db, .rescheduled, appointmentID: move.appointmentID, now: now, sequence: current.sequence + 1,
                previousSlot: current.slot)
            try Self.makeRemindersObsolete(db, appointmentID: move.appointmentID, now: now)
            try Self.enqueue(
                db, move.reminders, appointmentID: move.appointmentID, sequence: current.sequence + 1, now: now)
            try Self.rememberReschedule(db, move, now: now)
            guard let moved = try Self.fetchRecord(db, id: move.appointmentID) else {
                throw BookingError.storeUnavailable()
            }
            return .moved(moved.appointment)
        }
        if case .moved? = outcome { signal.signal() }
        return outcome
    }

    /// The reschedule stored under that key, with its appointment as it is now.
    public func rescheduleRecord(idempotencyKey: String) async throws(BookingError) -> RescheduleRecord? {
        try await read { db in try Self.fetchReschedule(db, idempotencyKey: idempotencyKey) }
    }

    /// The appointment with that id.
    public func record(id: Int64) async throws(BookingError) -> AppointmentRecord? {
        try await read { db in try Self.fetchRecord(db, id: id) }
    }

    /// The appointment booked with that idempotency key.
    public func record(idempotencyKey: String) async throws(BookingError) -> AppointmentRecord? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.appointmentColumns) FROM appointments WHERE idempotency_key = ?",
                arguments: [idempotencyKey]
            ).map { row in try Self.record(row) }
        }
    }

    /// Every appointment, ordered by slot start, then id.
    public func appointments() async throws(BookingError) -> [Appointment] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.appointmentColumns) FROM appointments ORDER BY slot_start, id")
                .map { row in try Self.record(row).appointment }
        }
    }

    /// The appointments of `resource` whose slot starts at or after `instant`, ordered by slot start, then id: a range
    /// of the slot-start index.
    public func appointments(of resource: ResourceID, startingFrom instant: Date) async throws(BookingError)
        -> [Appointment]
    {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.appointmentColumns) FROM appointments INDEXED BY appointments_by_slot_start
                    WHERE slot_start >= ? AND resource = ? ORDER BY slot_start, id
                    """,
                arguments: [instant.millisecondsSince1970, resource.rawValue]
            ).map { row in try Self.record(row).appointment }
        }
    }

    /// Leases due notifications in one immediate transaction, counting an attempt on each.
    public func claimNotifications(_ claim: NotificationClaim) async throws(BookingError) -> [BookingNotification] {
        try await write { db in try Self.claim(claim, in: db) }
    }

    /// Leases due notifications and reads their appointments in the same immediate transaction. A read or a row
    /// that fails leaves those appointments `nil` and the leases stand (the dispatcher reads them itself).
    public func claimNotificationsWithAppointments(_ claim: NotificationClaim) async throws(BookingError)
        -> [ClaimedNotification]
    {
        try await write { db in
            let claimed = try Self.claim(claim, in: db)
            guard !claimed.isEmpty else { return [] }
            let ids = Array(Set(claimed.map(\.appointmentID)))
            let rows =
                (try? Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.appointmentColumns) FROM appointments
                        WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ", ")))
                        """,
                    arguments: StatementArguments(ids))) ?? []
            let records = rows.compactMap { row in try? Self.record(row) }
            return ClaimedNotification.pairing(claimed, with: records)
        }
    }

    /// The claim's statement: leases the due notifications and counts an attempt on each, oldest due first.
    private static func claim(_ claim: NotificationClaim, in db: Database) throws -> [BookingNotification] {
        let now = claim.now.millisecondsSince1970
        return try Row.fetchAll(
            db,
            sql: """
                UPDATE notifications
                SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, updated_at = ?
                WHERE id IN (
                    SELECT id FROM notifications
                    WHERE status = 'pending' AND next_attempt_at <= ?
                        AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
                    ORDER BY next_attempt_at, id LIMIT ?)
                RETURNING \(Self.notificationColumns)
                """,
            arguments: [
                claim.owner, claim.leaseExpiresAt.millisecondsSince1970, now, now, now, max(0, claim.limit),
            ]
        ).map { row in try Self.notification(row) }.sorted(by: NotificationClaim.dueOrder)
    }

    /// Records an attempt's outcome if `owner` still holds the lease: ``finish(outcomes:owner:)`` for one.
    public func finish(notification id: Int64, owner: String, outcome: DeliveryOutcome) async throws(BookingError)
        -> Bool
    {
        try await finish(outcomes: [id: outcome], owner: owner).contains(id)
    }

    /// Records the outcomes in one immediate transaction, each only while `owner` holds the lease of the
    /// pending notification.
    public func finish(outcomes: [Int64: DeliveryOutcome], owner: String) async throws(BookingError) -> Set<Int64> {
        guard !outcomes.isEmpty else { return [] }
        return try await write { db in
            var recorded: Set<Int64> = []
            for (id, outcome) in outcomes {
                if try Self.finish(id, owner: owner, outcome: outcome, in: db) { recorded.insert(id) }
            }
            return recorded
        }
    }

    /// One outcome's `UPDATE`; whether it changed the notification.
    private static func finish(_ id: Int64, owner: String, outcome: DeliveryOutcome, in db: Database) throws -> Bool {
        let (assignments, arguments): (String, StatementArguments) =
            switch outcome {
            case .sent(let at):
                ("status = 'sent', sent_at = ?, updated_at = ?", [at.millisecondsSince1970, at.millisecondsSince1970])
            case .retry(let error, let next, let now):
                (
                    "error = ?, next_attempt_at = ?, updated_at = ?",
                    [error, next.millisecondsSince1970, now.millisecondsSince1970]
                )
            case .failed(let error, let now):
                ("status = 'failed', error = ?, updated_at = ?", [error, now.millisecondsSince1970])
            case .released(let now):
                ("attempts = max(attempts - 1, 0), updated_at = ?", [now.millisecondsSince1970])
            case .obsolete(let now):
                ("status = 'obsolete', attempts = max(attempts - 1, 0), updated_at = ?", [now.millisecondsSince1970])
            }
        try db.execute(
            sql: """
                UPDATE notifications SET \(assignments), lease_owner = NULL, lease_expires_at = NULL
                WHERE id = ? AND lease_owner = ? AND status = 'pending'
                """,
            arguments: arguments + [id, owner])
        return db.changesCount == 1
    }

    /// Renews, in one immediate transaction, the leases `owner` still holds among `ids`.
    public func renewLeases(of ids: [Int64], owner: String, now: Date, leaseExpiresAt: Date) async throws(BookingError)
        -> Set<Int64>
    {
        let ids = Array(Set(ids))
        guard !ids.isEmpty else { return [] }
        return try await write { db in
            // One bound parameter per id; a pass holds at most a batch of notifications.
            let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
            let renewed = try Int64.fetchAll(
                db,
                sql: """
                    UPDATE notifications SET lease_expires_at = ?, updated_at = ?
                    WHERE id IN (\(placeholders)) AND lease_owner = ? AND status = 'pending'
                    RETURNING id
                    """,
                arguments: StatementArguments([leaseExpiresAt.millisecondsSince1970, now.millisecondsSince1970])
                    + StatementArguments(ids) + [owner])
            return Set(renewed)
        }
    }

    /// Releases, in one immediate transaction, the leases of pending notifications whose owner starts
    /// with exactly `workerID + "/"`: a `substr` comparison (`LIKE` would read `%` and `_` as wildcards
    /// and ignore ASCII case).
    public func releaseLeases(ofWorker workerID: String, now: Date) async throws(BookingError) -> Set<Int64> {
        let prefix = workerID + "/"
        let released = try await write { db in
            try Int64.fetchAll(
                db,
                sql: """
                    UPDATE notifications SET lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
                    WHERE status = 'pending' AND lease_owner IS NOT NULL
                        AND substr(lease_owner, 1, length(?)) = ?
                    RETURNING id
                    """,
                arguments: [now.millisecondsSince1970, prefix, prefix])
        }
        if !released.isEmpty { signal.signal() }
        return Set(released)
    }

    /// Moves a failed notification back to pending, due now, with its attempts reset.
    public func retryFailedNotification(id: Int64, now: Date) async throws(BookingError) -> BookingNotification? {
        let notification = try await write { db in
            let now = now.millisecondsSince1970
            try db.execute(
                sql: """
                    UPDATE notifications SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?,
                        lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ? AND status = 'failed'
                    """,
                arguments: [now, now, id])
            return try Row.fetchOne(
                db, sql: "SELECT \(Self.notificationColumns) FROM notifications WHERE id = ?", arguments: [id]
            )
            .map { row in try Self.notification(row) }
        }
        if notification?.status == .pending { signal.signal() }
        return notification
    }

    /// Notifications ordered by id.
    public func notifications(appointmentID: Int64?) async throws(BookingError) -> [BookingNotification] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT \(Self.notificationColumns) FROM notifications WHERE ? IS NULL OR appointment_id = ? ORDER BY id",
                arguments: [appointmentID, appointmentID]
            ).map { row in try Self.notification(row) }
        }
    }

    /// Runs `SELECT 1`.
    public func checkHealth() async throws(BookingError) {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// Wakes dispatchers in this process when a notification is enqueued or retried.
    public func outboxWakeUps() -> AsyncStream<Void> { signal.stream() }

    // MARK: - Access

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction, within the busy timeout in all: the time spent
    /// queued behind this process's other writes counts too, so a write waiting on another process's
    /// lock answers `storeUnavailable` within the busy timeout however many writes wait with it.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(BookingError) -> T {
        let started = ContinuousClock.now
        let budget = busyTimeout
        do {
            return try await writer.writeWithoutTransaction { db in
                let left = budget - (ContinuousClock.now - started)
                guard left > .milliseconds(1) else { throw BookingError.storeUnavailable("the database is busy") }
                try db.execute(sql: "PRAGMA busy_timeout = \(Self.milliseconds(left))")
                defer { try? db.execute(sql: "PRAGMA busy_timeout = \(Self.milliseconds(budget))") }
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw BookingError.storeUnavailable() }
                return result
            }
        } catch {
            throw Self.map(error)
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(BookingError) -> T {
        do { return try await writer.read(body) } catch { throw Self.map(error) }
    }

    /// Runs `body`, which reads with one statement, outside a transaction: SQLite runs a statement on a snapshot of
    /// its own, so the `BEGIN` and `COMMIT` of ``read(_:)`` would only add two statements to parse and run.
    func readOneStatement<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(BookingError)
        -> T
    {
        do { return try await writer.unsafeRead(body) } catch { throw Self.map(error) }
    }

    /// Maps SQLite's errors to `BookingError`: the overlap trigger and unique keys to
    /// `slotUnavailable`, check constraints to `invalidInput`, everything else to `storeUnavailable`
    /// (with no SQL in the message).
    static func map(_ error: any Error) -> BookingError {
        if let error = error as? BookingError { return error }
        guard let database = error as? DatabaseError else { return .storeUnavailable() }
        switch database.extendedResultCode {
        case .SQLITE_CONSTRAINT_TRIGGER where database.message == "booking_overlap":
            return .slotUnavailable
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            return .slotUnavailable
        case .SQLITE_CONSTRAINT_CHECK, .SQLITE_CONSTRAINT_NOTNULL:
            return .invalidInput(field: "appointment", "violates a rule of the schema")
        default:
            if database.message == "booking_overlap" { return .slotUnavailable }
            switch database.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED: return .storeUnavailable("the database is busy")
            case .SQLITE_FULL: return .storeUnavailable("the disk is full")
            case .SQLITE_CANTOPEN:
                return .storeUnavailable("the database file cannot be opened (a missing folder, or no permission)")
            case .SQLITE_NOTADB: return .storeUnavailable("the file is not a SQLite database")
            case .SQLITE_READONLY, .SQLITE_PERM: return .storeUnavailable("the database file cannot be written")
            case .SQLITE_CORRUPT: return .storeUnavailable("the database file is damaged")
            default: return .storeUnavailable("SQLite error \(database.resultCode.rawValue)")
            }
        }
    }
}

extension Duration {
    /// The duration in seconds.
    fileprivate var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
