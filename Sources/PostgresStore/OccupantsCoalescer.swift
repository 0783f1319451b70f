import BookingDomain
import Synchronization

/// Lets the availability reads of one resource that arrive while a read of about the same window runs share one
/// statement, run after they arrived.
///
/// Reads meet by their window widened to whole minutes (``gridMilliseconds``): the windows of a default availability
/// read start at the moment it is asked, so two of them are seldom equal to the millisecond but almost always fall in
/// the same minutes. A read that finds no read of its minutes running makes its own, of its own window, at once, in
/// the caller's task. One that finds a read running waits for it to end, then shares the next statement with every
/// read of those minutes that arrived meanwhile; that statement reads the smallest window holding all of theirs, in a
/// task of its own, so no caller's cancellation reaches a read others wait for (a waiting read that is cancelled
/// leaves the queue at once, unless its statement has started). A window whose end is before its start is never
/// shared: its own statement refuses it. A read never takes the answer of a statement that started before it
/// arrived: it sees every commit made before it was asked, as a statement of its own would. A waiting read may wait
/// for the statement running and then for its own, each bounded as any statement of the store is.
///
/// The shared statement asks for the holds live at the earliest `now` of its readers; each reader keeps the
/// occupants overlapping its own window and the holds live at its own `now` (instants are whole milliseconds, as the
/// store binds them), so every reader gets exactly what its own statement would have read. Under load at one
/// resource (a week that many people open at once), most reads cost a wait instead of a round trip and a
/// connection; a lone read costs what it did and a lock.
final class OccupantsCoalescer: Sendable {
    /// A window of one resource, as the statement binds it: occupied intervals overlapping
    /// `[startMilliseconds, endMilliseconds)`, in milliseconds since 1970.
    struct Window: Equatable, Sendable {
        var resource: String
        var startMilliseconds: Int64
        var endMilliseconds: Int64
    }

    /// A window widened to whole minutes since 1970 (``gridMilliseconds``): the key under which reads meet.
    struct Minutes: Hashable, Sendable {
        /// The resource read.
        var resource: String
        /// The minute holding the window's start.
        var first: Int64
        /// The first minute at or after the window's end.
        var end: Int64

        /// `window` widened to whole minutes.
        init(of window: Window) {
            let grid = OccupantsCoalescer.gridMilliseconds
            // Division truncates toward zero: these round down and up without the overflow of adding a remainder.
            resource = window.resource
            first = window.startMilliseconds / grid - (window.startMilliseconds % grid < 0 ? 1 : 0)
            end = window.endMilliseconds / grid + (window.endMilliseconds % grid > 0 ? 1 : 0)
        }
    }

    /// Reads the occupants of a window with the holds live at `now` (milliseconds since 1970).
    typealias Fetch = @Sendable (_ window: Window, _ now: Int64) async throws(BookingError) -> [SlotOccupant]

    /// The grid, in milliseconds, that reads' windows are widened to when reads look for one to share: a minute.
    static let gridMilliseconds: Int64 = 60_000

    private typealias Answer = Result<[SlotOccupant], BookingError>

    /// A read waiting for the next statement of its minutes; it is resumed with that statement's answer.
    private struct Reader {
        let id: UInt64
        let window: Window
        let now: Int64
        let continuation: CheckedContinuation<Answer?, Never>
    }

    /// The minutes whose read runs, each with the readers waiting for its next statement (in order of arrival).
    private let running = Mutex<[Minutes: [Reader]]>([:])

    /// How many statements ran, shared or not (read by tests).
    private let statementCount = Atomic<Int>(0)

    /// The last reader's number: a cancelled reader finds itself in its queue by it.
    private let lastReaderID = Atomic<UInt64>(0)

    /// What a waiting read that is cancelled answers.
    private static let cancelled = Answer.failure(.storeUnavailable("the operation was cancelled"))

    /// A coalescer with no read running.
    init() {}

    /// The occupants of `window` with the holds live at `now`, from a statement that started after this call did:
    /// the caller's own, made with `fetch`, or one shared with the reads of the same minutes that arrived while
    /// another ran.
    func read(_ window: Window, now: Int64, fetch: @escaping Fetch) async throws(BookingError) -> [SlotOccupant] {
        guard window.startMilliseconds <= window.endMilliseconds else {
            return try await run(fetch, window, now: now).get()
        }
        let minutes = Minutes(of: window)
        let id = lastReaderID.wrappingAdd(1, ordering: .relaxed).newValue
        let shared: Answer? = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let joined = running.withLock { running -> Answer?? in
                    guard running[minutes] != nil else {
                        running[minutes] = []
                        return .some(nil)
                    }
                    // Checked under the lock: a cancellation after it finds the reader in the queue.
                    if Task.isCancelled { return .some(Self.cancelled) }
                    running[minutes]?.append(Reader(id: id, window: window, now: now, continuation: continuation))
                    return .none
                }
                if case .some(let answer) = joined { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let reader = running.withLock { running -> Reader? in
                guard let index = running[minutes]?.firstIndex(where: { $0.id == id }) else { return nil }
                return running[minutes]?.remove(at: index)
            }
            reader?.continuation.resume(returning: Self.cancelled)
        }
        if let shared { return try Self.part(of: shared, for: window, at: now).get() }
        let answer = await run(fetch, window, now: now)
        if let waiting = nextReaders(of: minutes) {
            // Inherits this read's priority and task-locals, as the first-seat batcher's task does.
            Task { await self.shareReads(of: minutes, with: waiting, fetch: fetch) }
        }
        return try answer.get()
    }

    /// How many statements ran since the coalescer was made.
    var statements: Int { statementCount.load(ordering: .relaxed) }

    /// How many reads wait for a statement of their minutes.
    var waitingCount: Int { running.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// How many minutes' reads run (read by tests: none once every read has answered).
    var runningCount: Int { running.withLock { $0.count } }

    /// Runs the statements of `minutes` for its waiting readers, each for those that arrived while the one before
    /// ran, until none waits. Each statement reads the smallest window holding its readers' windows, with the holds
    /// live at their earliest `now`.
    private func shareReads(of minutes: Minutes, with readers: [Reader], fetch: Fetch) async {
        var readers = readers
        while true {
            var hull = readers[0].window
            var earliest = readers[0].now
            for reader in readers.dropFirst() {
                hull.startMilliseconds = min(hull.startMilliseconds, reader.window.startMilliseconds)
                hull.endMilliseconds = max(hull.endMilliseconds, reader.window.endMilliseconds)
                earliest = min(earliest, reader.now)
            }
            let answer = await run(fetch, hull, now: earliest)
            for reader in readers { reader.continuation.resume(returning: answer) }
            guard let waiting = nextReaders(of: minutes) else { return }
            readers = waiting
        }
    }

    private func run(_ fetch: Fetch, _ window: Window, now: Int64) async -> Answer {
        statementCount.add(1, ordering: .relaxed)
        do { return .success(try await fetch(window, now)) } catch { return .failure(error) }
    }

    /// The readers that wait for the next statement of `minutes`, taken from the queue (the read of those minutes
    /// keeps running, for them); `nil`, and the minutes no longer running, when none waits.
    private func nextReaders(of minutes: Minutes) -> [Reader]? {
        running.withLock { running in
            guard let waiting = running[minutes], !waiting.isEmpty else {
                running[minutes] = nil
                return nil
            }
            running[minutes] = []
            return waiting
        }
    }

    /// What a statement of `window` asking at `now` would have read, from a shared statement's `answer`: the
    /// occupants overlapping `window` (none when it is empty), without the holds lapsed at `now`. The same array
    /// when all are kept. Whole milliseconds compare as the statement's microseconds do, since the store writes
    /// every instant in whole milliseconds.
    private static func part(of answer: Answer, for window: Window, at now: Int64) -> Answer {
        answer.map { occupants in
            guard window.startMilliseconds < window.endMilliseconds else { return [] }
            func kept(_ occupant: SlotOccupant) -> Bool {
                if let expiry = occupant.holdExpiresAt, expiry.millisecondsSince1970 <= now { return false }
                return occupant.occupied.start.millisecondsSince1970 < window.endMilliseconds
                    && occupant.occupied.end.millisecondsSince1970 > window.startMilliseconds
            }
            return occupants.allSatisfy(kept) ? occupants : occupants.filter(kept)
        }
    }
}
