import BookingDomain
import Synchronization

/// Gathers the first tries of bookings that arrive together, so one call of `booking_first_seats_v2` (see
/// ``FirstSeatsProcedure``) and one commit serve them all: a group commit.
///
/// A booking that finds fewer than ``concurrentCalls`` calls running starts one, in a task of its own (no caller's
/// cancellation reaches a call that others wait for); one that finds them all running waits, and the next call to
/// end takes the bookings waiting, in order of arrival, at most ``maximumEntries``. So a lone booking makes its call
/// at once, and a booking waits for the calls running when it arrived, then for its own (and for more only while
/// more than ``maximumEntries`` wait before it), but never past its entry's deadline: then it runs alone.
///
/// A call never holds two bookings whose occupied intervals overlap on one resource (two first tries of one slot,
/// say), so the entries of a call never meet each other at an index: a booking that meets one the call takes is
/// answered at once to run alone (only one of them could take the first seat, and a rush at one slot then runs
/// side by side instead of one call after another).
final class FirstSeatBatcher: Sendable {
    /// One booking's first try: the booking, its claim and the values its statements bind, and how long it may wait
    /// for a call to take it (the store gives it its connection wait, counted from the booking's start): past that,
    /// it runs alone.
    ///
    /// A class: the queue moves, sorts and hands over entries by reference, where moving the struct retained each of
    /// the booking's dozens of strings and arrays (by reference, the store's CPU per booking at 64 clients fell by a
    /// quarter).
    final class Entry: Sendable {
        let new: NewAppointment
        let claim: SlotClaim
        let values: ClaimValues
        let deadline: ContinuousClock.Instant

        /// An entry of `new`, with its claim and values, that waits for a call until `deadline`.
        init(new: NewAppointment, claim: SlotClaim, values: ClaimValues, deadline: ContinuousClock.Instant) {
            self.new = new
            self.claim = claim
            self.values = values
            self.deadline = deadline
        }
    }

    /// What a call came to for one booking.
    enum Answer: Sendable {
        /// The appointment was stored, and its notifications with it (committed).
        case created(AppointmentRecord)
        /// Nothing was written for this booking: the slot's lock was held alone or the database refused the try;
        /// the claim says what stands in the way.
        case notCreated
        /// No call stored it, and none will: the call failed with an error of its own (which rolled it back
        /// whole), or the booking meets another booking of the call (one slot, or overlapping times), of which only
        /// one first try could be stored. The booking runs alone, first try included.
        case runAlone
        /// The connection died while the call was out: the booking may be stored.
        case lost
        /// The call never reached the database (no connection in time, or none that worked): the booking's error.
        case error(BookingError)
    }

    private struct Waiting {
        let entry: Entry
        let continuation: CheckedContinuation<Answer, Never>
    }

    private struct State {
        var waiting: [Waiting] = []
        var running = 0
        /// Whether a task answers the bookings whose wait for a call runs out (see ``sweepExpired()``).
        var sweeping = false
    }

    /// How many calls run at once.
    let concurrentCalls: Int
    /// How many bookings one call takes at most.
    let maximumEntries: Int
    private let state = Mutex(State())

    /// A batcher running at most `concurrentCalls` calls at once, each of at most `maximumEntries` bookings.
    init(concurrentCalls: Int, maximumEntries: Int) {
        precondition(concurrentCalls > 0 && maximumEntries > 0, "a batcher needs room for one call of one booking")
        self.concurrentCalls = concurrentCalls
        self.maximumEntries = maximumEntries
    }

    /// The answer for `entry`, made by `call` (which answers its entries in order) in a call with the bookings that
    /// arrived with it, or ``Answer/runAlone`` once the entry's deadline passes before a call takes it.
    func submit(_ entry: Entry, call: @escaping @Sendable ([Entry]) async -> [Answer]) async -> Answer {
        await withCheckedContinuation { continuation in
            let (calls, sweeps) = state.withLock { state -> (Bool, Bool) in
                state.waiting.append(Waiting(entry: entry, continuation: continuation))
                if state.running < concurrentCalls {
                    state.running += 1
                    return (true, false)
                }
                guard !state.sweeping else { return (false, false) }
                state.sweeping = true
                return (false, true)
            }
            if calls { Task { await self.callWhileWaiting(call) } }
            if sweeps { Task { await self.sweepExpired() } }
        }
    }

    /// Makes calls while bookings wait, then ends.
    private func callWhileWaiting(_ call: @Sendable ([Entry]) async -> [Answer]) async {
        while let (batch, alone) = nextBatch() {
            for waiting in alone { waiting.continuation.resume(returning: .runAlone) }
            guard !batch.isEmpty else { continue }
            let answers = await call(batch.map(\.entry))
            for (index, waiting) in batch.enumerated() {
                // An answer missing (never so today) could hide a stored booking: it looks itself up.
                waiting.continuation.resume(returning: index < answers.count ? answers[index] : .lost)
            }
            // The callers just answered often book again at once: letting them run first (while their bookings
            // keep arriving, at most one round each, and until a call's worth waits) gathers those into this
            // task's next call, where each would otherwise start a call of one.
            var waiting = waitingCount
            for _ in 0..<batch.count where waiting < maximumEntries {
                await Task.yield()
                let now = waitingCount
                if now <= waiting { break }
                waiting = now
            }
        }
    }

    /// Answers ``Answer/runAlone`` to each booking whose deadline passes while it waits for a call (the calls
    /// running may be stuck on a connection that died without closing: the booking is not held up by them), then
    /// ends once none waits.
    private func sweepExpired() async {
        while true {
            let earliest: ContinuousClock.Instant? = state.withLock { state in
                guard let earliest = state.waiting.map(\.entry.deadline).min() else {
                    state.sweeping = false
                    return nil
                }
                return earliest
            }
            guard let earliest else { return }
            try? await Task.sleep(until: earliest, tolerance: .milliseconds(10), clock: .continuous)
            let now = ContinuousClock.now
            let expired = state.withLock { state -> [Waiting] in
                let expired = state.waiting.filter { $0.entry.deadline <= now }
                state.waiting.removeAll { $0.entry.deadline <= now }
                return expired
            }
            for waiting in expired { waiting.continuation.resume(returning: .runAlone) }
        }
    }

    /// How many bookings wait for a call.
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Takes the bookings of the next call from those waiting, in order of arrival, sorted by resource and start,
    /// and those to run alone: each that meets one of them, and each whose deadline passed; `nil` (and one call
    /// fewer running) when none waits. Those past ``maximumEntries`` wait for the next call.
    private func nextBatch() -> (batch: [Waiting], alone: [Waiting])? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            var taken: [Waiting] = []
            var alone: [Waiting] = []
            var left: [Waiting] = []
            for waiting in state.waiting {
                if waiting.entry.deadline <= now || taken.contains(where: { Self.overlap($0.entry, waiting.entry) }) {
                    alone.append(waiting)
                } else if taken.count < maximumEntries {
                    taken.append(waiting)
                } else {
                    left.append(waiting)
                }
            }
            state.waiting = left
            return (taken.sorted { Self.callOrder($0.entry, $1.entry) }, alone)
        }
    }

    /// Whether two bookings would meet at an index: the same resource and overlapping occupied intervals, or the
    /// same slot's start (its seats).
    static func overlap(_ first: Entry, _ second: Entry) -> Bool {
        guard first.claim.resource == second.claim.resource else { return false }
        return first.claim.slot.start == second.claim.slot.start
            || (first.claim.occupied.start < second.claim.occupied.end
                && second.claim.occupied.start < first.claim.occupied.end)
    }

    /// The order of a call's entries: by resource, then by start, so calls that meet at their rows wait for each
    /// other in one order.
    static func callOrder(_ first: Entry, _ second: Entry) -> Bool {
        if first.claim.resource != second.claim.resource {
            return first.claim.resource.rawValue < second.claim.resource.rawValue
        }
        return first.claim.slot.start < second.claim.slot.start
    }
}
