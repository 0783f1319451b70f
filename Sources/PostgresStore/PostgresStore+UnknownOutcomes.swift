import BookingDomain
import Logging
import PostgresNIO

extension PostgresStore {
    /// How far past ``Configuration/connectionWaitTimeout``, counted from a booking's start, the look-up of a
    /// booking whose connection died under its call may run: the look-up never pushes an answer past the
    /// connection wait plus this (a call that died later than that is answered at once).
    static let lostCallAllowance: Duration = .milliseconds(200)

    /// Whether `error` says the connection died under a statement (closed, reset, or ended by the server: SQLSTATE
    /// class 08 or 57P, 57P01 when the server shuts down, or any error of severity `FATAL` or `PANIC`) rather than
    /// the statement failing with an error of its own, which rolled it back. A call already sent then has an
    /// unknown outcome: PostgreSQL handles the terminate signal of a shutdown after the procedure's `COMMIT` as
    /// well as before it. Errors that are neither (no SQLSTATE, or not from PostgresNIO) count as failures too.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        guard let psql = error as? PSQLError else { return true }
        guard let info = psql.serverInfo, let state = info[.sqlState] else { return true }
        if let severity = info[.severity], severity == "FATAL" || severity == "PANIC" { return true }
        return state.hasPrefix("08") || state.hasPrefix("57P")
    }

    /// The answer to a booking whose connection died while its call was out (``InsertAttempt/callLost``): the
    /// appointment, when another connection finds it stored (answered as a replay under an idempotency key);
    /// otherwise `storeUnavailable` saying that the outcome is unknown, since a database that is down, or a
    /// backend that has not noticed yet, may still hold a committed booking. A retry with the same idempotency
    /// key then answers that booking if it was made. The look-up takes at most half a connection wait (1 s by
    /// default), and never runs past ``Configuration/connectionWaitTimeout`` plus ``lostCallAllowance`` from
    /// `started` (the booking's start, or the end of the shared call for a booking that tried its first seat in one).
    /// A call that died later than that gets no look-up.
    func outcome(ofLostCall new: NewAppointment, startedAt started: ContinuousClock.Instant)
        async throws(BookingError) -> InsertOutcome
    {
        let answerBy = started + configuration.connectionWaitTimeout + Self.lostCallAllowance
        let wait = min(configuration.connectionWaitTimeout / 2, answerBy - ContinuousClock.now)
        guard wait > .zero else { throw Self.unknownOutcome(of: new, logger: logger) }
        let read = Task { [self] () async throws -> AppointmentRecord? in
            await record(bookedWith: new, readingUntil: ContinuousClock.now + wait)
        }
        // A read on a connection that died without closing may hang past the deadline: it is left behind.
        if let found = try? await Deadline.answer(within: wait, from: read) {
            return Self.outcome(of: new, found: found)
        }
        throw Self.unknownOutcome(of: new, logger: logger)
    }

    /// The error of a booking whose outcome is unknown, logged as a warning naming its resource and slot.
    private static func unknownOutcome(of new: NewAppointment, logger: Logger) -> BookingError {
        logger.warning(
            "a booking's outcome is unknown: the database connection was lost while its call was out",
            metadata: [
                "resource": "\(new.resource.rawValue)", "slot_start": "\(new.slot.start.millisecondsSince1970)",
                "idempotency_key": "\(new.idempotencyKey == nil ? "none" : "given")",
            ])
        return .storeUnavailable(
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
        try await records(bookedWith: [new], on: connection, logger: logger)[0]
    }

    /// The appointments `news` created, in their order, each `nil` when it is not stored: found in one statement,
    /// each as ``record(bookedWith:on:logger:)`` finds one.
    static func records(bookedWith news: [NewAppointment], on connection: PostgresConnection, logger: Logger)
        async throws -> [AppointmentRecord?]
    {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: appointmentColumns), booked.position FROM appointments
            JOIN unnest(\(news.map(\.resource.rawValue)), \(news.map { PostgresInstant($0.slot.start) }),
                \(news.map(\.cancelTokenHash)), \(news.map { PostgresInstant($0.now) }))
                WITH ORDINALITY AS booked(resource, slot_start, cancel_token_hash, created_at, position)
            USING (resource, slot_start, cancel_token_hash, created_at)
            """, logger: logger)
        var found = [AppointmentRecord?](repeating: nil, count: news.count)
        for try await row in rows {
            let position = try row.makeRandomAccess()["position"].decode(Int64.self)
            if position >= 1, position <= news.count { found[Int(position) - 1] = try record(row) }
        }
        return found
    }
}
