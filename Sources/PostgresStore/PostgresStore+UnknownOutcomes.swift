import BookingDomain
import Logging
import PostgresNIO

/// What one call of the booking procedure came to, as ``PostgresStore/insert(_:)`` reads it.
enum InsertAttempt: Sendable {
    /// The procedure answered: the appointment it created, or the one of a replay.
    case answered(InsertOutcome)
    /// The procedure refused, and this is what stands in the way.
    case refused(BookingError)
    /// The procedure refused, yet nothing stands in the way any more: the booking runs again.
    case refusedByNothing
    /// The connection died after the call was sent: the procedure may have committed.
    case callLost
}

extension PostgresStore {
    /// How long the store waits for a connection to read what became of a booking whose connection died under
    /// its call (at most ``Configuration/connectionWaitTimeout``): the answer is late by no more than this.
    static let lostCallReadWait: Duration = .seconds(1)

    /// Whether `error` says the connection died under a statement (closed, reset, or ended by the server: SQLSTATE
    /// class 08, or 57P01 to 57P03 when the server shuts down or restarts) rather than the statement failing with
    /// an error of its own, which rolled it back. A call already sent then has an unknown outcome: PostgreSQL
    /// handles the terminate signal of a shutdown after the procedure's `COMMIT` as well as before it.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        guard let psql = error as? PSQLError else { return true }
        guard let state = psql.serverInfo?[.sqlState] else { return true }
        return state.hasPrefix("08") || state.hasPrefix("57P")
    }

    /// The answer to a booking whose connection died after its call was sent (``InsertAttempt/callLost``): the
    /// appointment, when another connection finds it stored (answered as a replay under an idempotency key);
    /// otherwise `storeUnavailable` saying that the outcome is unknown, since a database that is down, or a
    /// backend that has not noticed yet, may still hold a committed booking. A retry with the same idempotency
    /// key then answers that booking if it was made. The look-up takes at most ``lostCallReadWait``.
    func outcome(ofLostCall new: NewAppointment) async throws(BookingError) -> InsertOutcome {
        let wait = min(configuration.connectionWaitTimeout, Self.lostCallReadWait)
        let read = Task { [self] () async throws -> AppointmentRecord? in
            await record(bookedWith: new, readingUntil: ContinuousClock.now + wait)
        }
        // A read on a connection that died without closing may hang past the deadline: it is left behind.
        if let found = try? await Deadline.answer(within: wait, from: read) {
            return Self.outcome(of: new, found: found)
        }
        logger.warning(
            "a booking's outcome is unknown: the database connection was lost after its call was sent",
            metadata: [
                "resource": "\(new.resource.rawValue)", "slot_start": "\(new.slot.start.millisecondsSince1970)",
                "idempotency_key": "\(new.idempotencyKey == nil ? "none" : "given")",
            ])
        throw .storeUnavailable(
            "the database connection was lost after the booking was sent, so whether it was made is unknown"
                + (new.idempotencyKey == nil ? "" : "; a retry with the same idempotency key answers it if it was"))
    }

    /// The appointment `new` created, read on another connection until `deadline`: `nil` when it is not stored or
    /// could not be read by then. The pool may hand back the very connection that died before it has seen it
    /// closed, so a read that fails runs again 50 ms later.
    private func record(bookedWith new: NewAppointment, readingUntil deadline: ContinuousClock.Instant) async
        -> AppointmentRecord?
    {
        while ContinuousClock.now < deadline {
            do {
                let read: AppointmentRecord?? = try await perform(
                    waitingAtMost: deadline - ContinuousClock.now, statements: 1
                ) { [logger] connection in
                    do {
                        return .some(try await Self.record(bookedWith: new, on: connection, logger: logger))
                    } catch  where Self.isConnectionFailure(error) {
                        return .none
                    }
                }
                if let read { return read }
            } catch {
                logger.debug("the outcome of a lost booking call could not be read", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// The answer for `found`, the appointment `new` created (read back after its call's answer was lost):
    /// a replay under an idempotency key, since an earlier call with this very value may have stored it.
    static func outcome(of new: NewAppointment, found: AppointmentRecord) -> InsertOutcome {
        new.idempotencyKey == nil ? .created(found) : .existing(found)
    }

    /// The appointment `new` created, if it is stored: found by its slot, its cancel token's hash (new for every
    /// request, see `NewAppointment.cancelTokenHash`) and its creation time.
    static func record(bookedWith new: NewAppointment, on connection: PostgresConnection, logger: Logger)
        async throws -> AppointmentRecord?
    {
        try await records(
            connection.query(
                """
                SELECT \(unescaped: appointmentColumns) FROM appointments
                WHERE resource = \(new.resource.rawValue) AND slot_start = \(PostgresInstant(new.slot.start))
                    AND cancel_token_hash = \(new.cancelTokenHash) AND created_at = \(PostgresInstant(new.now))
                """, logger: logger)
        ).first
    }
}
