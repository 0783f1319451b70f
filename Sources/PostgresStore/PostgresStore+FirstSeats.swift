import BookingDomain
import Logging
import PostgresNIO
import Synchronization

extension PostgresStore {
    /// How many calls of `booking_first_seats_v2` run at once: two keep both cores of a small database busy while
    /// the bookings that arrive meanwhile gather for the next call.
    static let firstSeatCalls = 2

    /// How many bookings one call of `booking_first_seats_v2` takes at most, so one call's locks and its commit
    /// stay short.
    static let firstSeatEntries = 32

    /// How long all the store's calls of first seats use version 1's insert alone after any call fell back from the
    /// one with the seat index as the arbiter (an overlapping booking, or another writer's row in its way): where
    /// calls keep meeting such bookings, the undone inserts would cost more than that insert saves. At worst (a fall
    /// back every second) the store makes version 1's insert nearly always, as before version 2.
    static let seatArbiterPause: Duration = .seconds(1)

    /// Whether a call starting now tries the insert with the seat index as the arbiter first.
    func triesSeatArbiter() -> Bool {
        seatArbiterPausedUntil.withLock { until in
            guard let until else { return true }
            return ContinuousClock.now >= until
        }
    }

    /// Whether the booking of `values` may take its first try in a call with others (``FirstSeatBatcher``): no
    /// hold and no limits (as the first try of `booking_insert_v5`), and no idempotency key, whose lock is exclusive
    /// and waited for, so retries with one key stay one at a time. Its locks are then the resource's, shared.
    static func triesFirstSeatTogether(_ values: ClaimValues) -> Bool {
        values.idempotencyKey == nil && values.holdTokenHash == nil && values.periodStarts.isEmpty
    }

    /// One call of `booking_first_seats_v2` (see ``FirstSeatsProcedure``) for `entries`: each entry's answer, in
    /// order. The call is one round trip, and its answer comes after its commit.
    func callFirstSeats(_ entries: [FirstSeatBatcher.Entry]) async -> [FirstSeatBatcher.Answer] {
        // Once the database refused the call itself, the bookings still queued run alone.
        guard firstSeatsTogether.load(ordering: .relaxed) else {
            return [FirstSeatBatcher.Answer](repeating: .runAlone, count: entries.count)
        }
        // The call waits for a connection as long as the entry that may wait longest (each entry waited at most its
        // own connection wait for the call).
        let wait = max((entries.map(\.deadline).max() ?? .now) - .now, .milliseconds(1))
        let phase = CallPhase()
        let lost = [FirstSeatBatcher.Answer](repeating: .lost, count: entries.count)
        let whenLost: @Sendable () -> [FirstSeatBatcher.Answer]? = { phase.attemptWhenLost() == nil ? nil : lost }
        do {
            // The verification of every prepared statement, the call, and after a cancel the look-up of the entries.
            return try await perform(
                waitingAtMost: wait, statements: Self.verificationStatements + 2, whenLost: whenLost
            ) {
                [self, logger] connection -> [FirstSeatBatcher.Answer] in
                // As for a booking's own call (see `insert(_:)`): out until it is known to have stored nothing.
                try await verifyClaimStatements(on: connection)
                let rows: [PostgresRow]
                do {
                    phase.send()
                    rows = try await runTracked(
                        FirstSeatsCall(entries: entries.map(\.values), seatArbiter: triesSeatArbiter()), on: connection)
                } catch  where Self.sqlState(of: error) == Self.cancelledState {
                    // A timeout or cancel that falls due while the procedure commits is raised once the commit is
                    // done: each booking that is stored is the answer. The others wrote nothing (the call rolled back,
                    // or it committed without them), and run alone: one booking that waited too long at another's
                    // row fails no other. The call stays out, so a connection lost now has each look itself up.
                    do {
                        let found = try await Self.records(
                            bookedWith: entries.map(\.new), on: connection, logger: logger)
                        return found.map { $0.map { .created($0) } ?? .runAlone }
                    } catch {
                        return lost
                    }
                } catch  where Self.isConnectionFailure(error) {
                    return lost
                } catch {
                    // An error of the call's own (a deadlock, text the database cannot store) rolled it back whole.
                    phase.answered()
                    let state = Self.sqlState(of: error) ?? "none"
                    if Self.callRefusedStates.contains(state), firstSeatsTogether.exchange(false, ordering: .relaxed) {
                        logger.warning(
                            "bookings try their first seats alone from now on: the database refused the call of \(FirstSeatsProcedure.name)",
                            metadata: ["sqlstate": "\(state)"])
                    } else {
                        logger.debug(
                            "a call of first seats failed; its bookings run alone",
                            metadata: ["sqlstate": "\(state)", "bookings": "\(entries.count)"])
                    }
                    return [FirstSeatBatcher.Answer](repeating: .runAlone, count: entries.count)
                }
                // An answer it cannot read: each booking looks itself up.
                guard let answer = try? rows.first?.decode(([Int64], Bool).self), answer.0.count == entries.count
                else { return lost }
                let (ids, fellBack) = answer
                if fellBack {
                    let until = ContinuousClock.now + Self.seatArbiterPause
                    seatArbiterPausedUntil.withLock { $0 = max($0 ?? until, until) }
                }
                return zip(entries, ids).map { entry, id in
                    id > 0 ? .created(Self.firstSeatRecord(entry, id: id)) : .notCreated
                }
            }
        } catch {
            return [FirstSeatBatcher.Answer](repeating: .error(error), count: entries.count)
        }
    }

    /// The errors that refuse the call itself rather than one run of it: 42883 (`undefined_function`, no such
    /// procedure) and 42501 (`insufficient_privilege`, `EXECUTE` revoked). After one, the store's bookings try their
    /// first seats alone.
    static let callRefusedStates: Set<String> = ["42883", "42501"]

    /// The appointment `booking_first_seats_v2` stored for `entry` under `id`: the booking's values as the claim
    /// bound them (times at whole milliseconds), booked, on sequence 0.
    static func firstSeatRecord(_ entry: FirstSeatBatcher.Entry, id: Int64) -> AppointmentRecord {
        let new = entry.new
        let appointment = Appointment(
            id: id, resource: entry.claim.resource, slot: entry.claim.slot, occupied: entry.claim.occupied,
            customerName: new.customerName, customerEmail: new.customerEmail, note: new.note, status: .booked,
            createdAt: entry.claim.now, updatedAt: entry.claim.now, cancelledAt: nil, sequence: 0)
        return AppointmentRecord(
            appointment: appointment, cancelTokenHash: new.cancelTokenHash, idempotencyKey: nil,
            requestFingerprint: new.requestFingerprint, sealedCancelToken: new.sealedCancelToken)
    }
}
