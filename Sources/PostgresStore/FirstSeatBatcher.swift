import BookingDomain
import Synchronization

/// Gathers the first tries of bookings that arrive together, so one call of `booking_first_seats_v1` (see
/// ``FirstSeatsProcedure``) and one commit serve them all: a group commit.
///
/// A booking that finds fewer than ``concurrentCalls`` calls running starts one, in a task of its own (no caller's
/// cancellation reaches a call that others wait for); one that finds them all running waits, and the next call to
/// end takes every booking that waited meanwhile, at most ``maximumEntries``, before it ends. So a booking waits at
/// most for the calls running when it arrived, then its own, and a lone booking makes its call at once.
///
/// A call never holds two bookings whose occupied intervals overlap on one resource (two first tries of one slot,
/// say): the later stays for the next call, so the entries of a call never meet each other at an index.
final class FirstSeatBatcher: Sendable {
    /// One booking's first try: the booking, its claim and the values its statements bind.
    struct Entry: Sendable {
        let new: NewAppointment
        let claim: SlotClaim
        let values: ClaimValues
    }

    /// What a call came to for one booking.
    enum Answer: Sendable {
        /// The appointment was stored, and its notifications with it (committed).
        case created(AppointmentRecord)
        /// Nothing was written for this booking: the slot's lock was held alone or the database refused the try;
        /// the claim says what stands in the way.
        case notCreated
        /// The call failed with an error of its own (which rolled it back whole): the booking runs alone.
        case failed
        /// The connection died while the call was out: the booking may be stored.
        case lost
        /// The call never reached the database, or its end is this error (a timeout that rolled it back).
        case error(BookingError)
    }

    private struct Waiting {
        let entry: Entry
        let continuation: CheckedContinuation<Answer, Never>
    }

    private struct State {
        var waiting: [Waiting] = []
        var running = 0
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
    /// arrived with it.
    func submit(_ entry: Entry, call: @escaping @Sendable ([Entry]) async -> [Answer]) async -> Answer {
        await withCheckedContinuation { continuation in
            let starts = state.withLock { state in
                state.waiting.append(Waiting(entry: entry, continuation: continuation))
                guard state.running < concurrentCalls else { return false }
                state.running += 1
                return true
            }
            if starts { Task { await self.callWhileWaiting(call) } }
        }
    }

    /// Makes calls while bookings wait, then ends.
    private func callWhileWaiting(_ call: @Sendable ([Entry]) async -> [Answer]) async {
        while let batch = nextBatch() {
            let answers = await call(batch.map(\.entry))
            for (index, waiting) in batch.enumerated() {
                waiting.continuation.resume(returning: index < answers.count ? answers[index] : .failed)
            }
            // The callers just answered often book again at once: letting them run first (for as long as their
            // bookings keep arriving, at most one round each) gathers those into this task's next call, where
            // each would otherwise start a call of one.
            var waiting = waitingCount
            for _ in 0..<batch.count {
                await Task.yield()
                let now = waitingCount
                if now == waiting { break }
                waiting = now
            }
        }
    }

    /// How many bookings wait for a call.
    private var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Takes the bookings of the next call from those waiting, in order of arrival but for one that overlaps a
    /// booking already taken, sorted by resource and start; `nil` (and one call fewer running) when none waits.
    private func nextBatch() -> [Waiting]? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            var taken: [Waiting] = []
            var left: [Waiting] = []
            for waiting in state.waiting {
                if taken.count < maximumEntries, !taken.contains(where: { Self.overlap($0.entry, waiting.entry) }) {
                    taken.append(waiting)
                } else {
                    left.append(waiting)
                }
            }
            state.waiting = left
            return taken.sorted { Self.callOrder($0.entry, $1.entry) }
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
