public import BookingDomain
public import Foundation
public import Logging
public import PostgresNIO

/// A ``BookingDomain/BookingStore`` on PostgreSQL through PostgresNIO's pooled `PostgresClient`.
///
/// ```swift
/// let store = try PostgresStore(configuration: .init(url: "postgres://booking@127.0.0.1:5432/booking"), logger: logger)
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { await store.client.run() }   // or add `store.client` to your ServiceGroup
///     try await store.migrate()
///     let service = BookingService(store: store)
///     // ...
/// }
/// ```
///
/// - An `EXCLUDE USING gist` constraint keeps booked occupied intervals of a resource disjoint,
///   so any number of processes can share one database; violations become `slotUnavailable`.
/// - Every query binds its values (`PostgresQuery` interpolation); book and cancel each run in
///   one transaction with their notification row, and `NOTIFY booking_outbox` wakes dispatchers.
/// - The outbox claim is one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)`.
/// - A lost server makes operations fail with `storeUnavailable` within
///   ``Configuration/operationTimeout``; they work again once the server is back.
public final class PostgresStore: BookingStore {
    /// The connection pool; a swift-service-lifecycle `Service` the caller must run.
    public let client: PostgresClient
    /// The configuration the client was made from.
    public let configuration: Configuration
    let logger: Logger

    /// The channel `NOTIFY` uses to hint that notifications are due.
    public static let outboxChannel = "booking_outbox"

    /// Creates a store and its client; run ``client`` before using the store.
    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
    }

    // MARK: - BookingStore

    /// Inserts the appointment and its `booked` notification in one transaction.
    public func insert(_ new: NewAppointment) async throws(BookingError) -> InsertOutcome {
        try new.validate()
        do {
            return try await perform { [logger] client in
                try await client.withTransaction(logger: logger) { connection in
                    if let key = new.idempotencyKey,
                        let existing = try await Self.records(
                            connection.query(
                                "SELECT \(unescaped: Self.appointmentColumns) FROM appointments WHERE idempotency_key = \(key)",
                                logger: logger)
                        ).first
                    {
                        return InsertOutcome.existing(existing)
                    }
                    let now = PostgresInstant(new.now)
                    let inserted = try await Self.records(
                        connection.query(
                            """
                            INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
                                customer_email, note, status, cancel_token_hash, idempotency_key, request_fingerprint,
                                created_at, updated_at)
                            VALUES (\(new.resource.rawValue), \(PostgresInstant(new.slot.start)), \(PostgresInstant(new.slot.end)),
                                \(PostgresInstant(new.occupied.start)), \(PostgresInstant(new.occupied.end)), \(new.customerName),
                                \(new.customerEmail), \(new.note), 'booked', \(new.cancelTokenHash), \(new.idempotencyKey),
                                \(new.requestFingerprint), \(now), \(now))
                            RETURNING \(unescaped: Self.appointmentColumns)
                            """, logger: logger))
                    guard let record = inserted.first else { throw BookingError.storeUnavailable() }
                    try await Self.enqueue(
                        connection, .booked, appointmentID: record.appointment.id, now: now, logger: logger)
                    return InsertOutcome.created(record)
                }
            }
        } catch  where error.code == .slotUnavailable {
            // A concurrent insert with the same idempotency key may have won the unique index.
            if let key = new.idempotencyKey, let existing = try await record(idempotencyKey: key) {
                return .existing(existing)
            }
            throw error
        }
    }

    /// Cancels in one transaction with the `cancelled` notification; idempotent.
    public func cancel(id: Int64, now: Date) async throws(BookingError) -> Appointment? {
        try await perform { [logger] client in
            try await client.withTransaction(logger: logger) { connection in
                let at = PostgresInstant(now)
                let cancelled = try await Self.records(
                    connection.query(
                        """
                        UPDATE appointments SET status = 'cancelled', cancelled_at = \(at), updated_at = \(at)
                        WHERE id = \(id) AND status = 'booked'
                        RETURNING \(unescaped: Self.appointmentColumns)
                        """, logger: logger))
                if let record = cancelled.first {
                    try await Self.enqueue(connection, .cancelled, appointmentID: id, now: at, logger: logger)
                    return record.appointment
                }
                return try await Self.records(
                    connection.query(
                        "SELECT \(unescaped: Self.appointmentColumns) FROM appointments WHERE id = \(id)",
                        logger: logger)
                ).first?.appointment
            }
        }
    }

    /// The appointment with that id.
    public func record(id: Int64) async throws(BookingError) -> AppointmentRecord? {
        try await perform { [logger] client in
            try await Self.records(
                client.query(
                    "SELECT \(unescaped: Self.appointmentColumns) FROM appointments WHERE id = \(id)", logger: logger)
            ).first
        }
    }

    /// The appointment booked with that idempotency key.
    public func record(idempotencyKey: String) async throws(BookingError) -> AppointmentRecord? {
        try await perform { [logger] client in
            try await Self.records(
                client.query(
                    "SELECT \(unescaped: Self.appointmentColumns) FROM appointments WHERE idempotency_key = \(idempotencyKey)",
                    logger: logger)
            ).first
        }
    }

    /// Every appointment, ordered by slot start, then id.
    public func appointments() async throws(BookingError) -> [Appointment] {
        try await perform { [logger] client in
            try await Self.records(
                client.query(
                    "SELECT \(unescaped: Self.appointmentColumns) FROM appointments ORDER BY slot_start, id",
                    logger: logger)
            ).map(\.appointment)
        }
    }

    /// Booked occupied intervals overlapping `window`, found through the exclusion constraint's GiST index.
    public func bookedIntervals(resource: ResourceID, overlapping window: TimeSlot) async throws(BookingError)
        -> [TimeSlot]
    {
        try await perform { [logger] client in
            var intervals: [TimeSlot] = []
            let rows = try await client.query(
                """
                SELECT occupied_start, occupied_end FROM appointments
                WHERE resource = \(resource.rawValue) AND status = 'booked'
                    AND tstzrange(occupied_start, occupied_end, '[)')
                        && tstzrange(\(PostgresInstant(window.start)), \(PostgresInstant(window.end)), '[)')
                ORDER BY occupied_start
                """, logger: logger)
            for try await (start, end) in rows.decode((PostgresInstant, PostgresInstant).self) {
                intervals.append(try TimeSlot(start: start.date, end: end.date))
            }
            return intervals
        }
    }

    /// Leases due notifications in one statement with `FOR UPDATE SKIP LOCKED`, counting an attempt on each.
    public func claimNotifications(_ claim: NotificationClaim) async throws(BookingError) -> [BookingNotification] {
        try await perform { [logger] client in
            let now = PostgresInstant(claim.now)
            return try await Self.notifications(
                client.query(
                    """
                    UPDATE notifications
                    SET lease_owner = \(claim.owner), lease_expires_at = \(PostgresInstant(claim.leaseExpiresAt)),
                        attempts = attempts + 1, updated_at = \(now)
                    WHERE id IN (
                        SELECT id FROM notifications
                        WHERE status = 'pending' AND next_attempt_at <= \(now)
                            AND (lease_expires_at IS NULL OR lease_expires_at <= \(now))
                        ORDER BY next_attempt_at, id
                        LIMIT \(max(0, claim.limit))
                        FOR UPDATE SKIP LOCKED)
                    RETURNING \(unescaped: Self.notificationColumns)
                    """, logger: logger)
            ).sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    /// Records an outcome only while `owner` holds the lease of a pending notification.
    public func finish(notification id: Int64, owner: String, outcome: DeliveryOutcome) async throws(BookingError)
        -> Bool
    {
        let query: PostgresQuery =
            switch outcome {
            case .sent(let at):
                """
                UPDATE notifications SET status = 'sent', sent_at = \(PostgresInstant(at)), updated_at = \(PostgresInstant(at)),
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(id) AND lease_owner = \(owner) AND status = 'pending'
                RETURNING id
                """
            case .retry(let error, let next, let now):
                """
                UPDATE notifications SET error = \(error), next_attempt_at = \(PostgresInstant(next)),
                    updated_at = \(PostgresInstant(now)), lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(id) AND lease_owner = \(owner) AND status = 'pending'
                RETURNING id
                """
            case .failed(let error, let now):
                """
                UPDATE notifications SET status = 'failed', error = \(error), updated_at = \(PostgresInstant(now)),
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(id) AND lease_owner = \(owner) AND status = 'pending'
                RETURNING id
                """
            case .released(let now):
                """
                UPDATE notifications SET attempts = GREATEST(attempts - 1, 0), updated_at = \(PostgresInstant(now)),
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(id) AND lease_owner = \(owner) AND status = 'pending'
                RETURNING id
                """
            }
        return try await perform { [logger] client in
            var changed = 0
            for try await _ in try await client.query(query, logger: logger) { changed += 1 }
            return changed == 1
        }
    }

    /// Moves a failed notification back to pending, due now, with its attempts reset.
    public func retryFailedNotification(id: Int64, now: Date) async throws(BookingError) -> BookingNotification? {
        try await perform { [logger] client in
            try await client.withTransaction(logger: logger) { connection in
                let at = PostgresInstant(now)
                try await connection.query(
                    """
                    UPDATE notifications SET status = 'pending', attempts = 0, next_attempt_at = \(at), updated_at = \(at),
                        lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = \(id) AND status = 'failed'
                    """, logger: logger)
                try await connection.query("SELECT pg_notify(\(Self.outboxChannel), '')", logger: logger)
                return try await Self.notifications(
                    connection.query(
                        "SELECT \(unescaped: Self.notificationColumns) FROM notifications WHERE id = \(id)",
                        logger: logger)
                ).first
            }
        }
    }

    /// Notifications ordered by id.
    public func notifications(appointmentID: Int64?) async throws(BookingError) -> [BookingNotification] {
        try await perform { [logger] client in
            try await Self.notifications(
                client.query(
                    """
                    SELECT \(unescaped: Self.notificationColumns) FROM notifications
                    WHERE \(appointmentID)::BIGINT IS NULL OR appointment_id = \(appointmentID)
                    ORDER BY id
                    """, logger: logger))
        }
    }

    /// Runs `SELECT 1`.
    public func checkHealth() async throws(BookingError) {
        try await perform { [logger] client in
            for try await _ in try await client.query("SELECT 1", logger: logger) {}
        }
    }

    /// Yields on every `NOTIFY booking_outbox`, from a dedicated pooled connection that `LISTEN`s
    /// and reconnects after a failure. A hint only: dispatchers keep polling.
    public func outboxWakeUps() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let listener = Task { [client, logger] in
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.outboxChannel) { notifications in
                            for try await _ in notifications { continuation.yield() }
                        }
                    }
                } catch {
                    logger.debug(
                        "outbox listener lost its connection",
                        metadata: ["error": "\(String(reflecting: type(of: error)))"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        continuation.onTermination = { _ in listener.cancel() }
        return stream
    }

    // MARK: - Helpers

    static func enqueue(
        _ connection: PostgresConnection, _ kind: BookingNotification.Kind, appointmentID: Int64, now: PostgresInstant,
        logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO notifications (appointment_id, kind, status, attempts, next_attempt_at, created_at, updated_at)
            VALUES (\(appointmentID), \(kind.rawValue), 'pending', 0, \(now), \(now), \(now))
            """, logger: logger)
        try await connection.query("SELECT pg_notify(\(outboxChannel), '')", logger: logger)
    }

    /// Runs `body` with the operation timeout and maps every error to a ``BookingDomain/BookingError``.
    func perform<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws(BookingError)
        -> T
    {
        let client = self.client
        let timeout = configuration.operationTimeout
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body(client) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let result = first else {
                    throw BookingError.storeUnavailable("the database did not answer within \(timeout)")
                }
                return result
            }
        } catch {
            throw Self.map(error)
        }
    }

    /// Exclusion and unique violations become `slotUnavailable`; check violations, and text the
    /// database cannot store (a NUL character, or one the server's encoding lacks), `invalidInput`;
    /// everything else `storeUnavailable` with the SQLSTATE only (never SQL or values).
    static func map(_ error: any Error) -> BookingError {
        if let error = error as? BookingError { return error }
        if let transaction = error as? PostgresTransactionError {
            let cause = transaction.closureError ?? transaction.commitError ?? transaction.beginError
            return cause.map(map) ?? .storeUnavailable("the transaction failed")
        }
        guard let psql = error as? PSQLError else {
            return .storeUnavailable(
                error is CancellationError ? "the operation was cancelled" : "the database is unreachable")
        }
        guard let state = psql.serverInfo?[.sqlState] else {
            return .storeUnavailable("the database connection failed")
        }
        switch state {
        case "23P01", "23505": return .slotUnavailable
        case "23514", "23502", "22001": return .invalidInput(field: "appointment", "violates a rule of the schema")
        case "22021", "22P05":  // character_not_in_repertoire, untranslatable_character
            return .invalidInput(field: "appointment", "contains characters the database cannot store")
        default: return .storeUnavailable("database error \(state)")
        }
    }
}
