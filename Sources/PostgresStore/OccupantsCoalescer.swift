import BookingDomain
import Synchronization

/// Lets the reads of one window's occupants that arrive while a read of that window runs share one statement, run
/// after they arrived.
///
/// A read that finds no read of its window running makes its own, at once, in the caller's task. One that finds a
/// read running waits for it to end, then shares the next statement with every read of the window that arrived
/// meanwhile; that statement runs in a task of its own, so no caller's cancellation reaches a read others wait for.
/// A read never takes the answer of a statement that started before it arrived: it sees every commit made before it
/// was asked, as a statement of its own would.
///
/// The shared statement asks for the holds live at the earliest `now` of its readers, and each reader keeps those
/// live at its own `now` (instants are whole milliseconds, as the store binds them), so every reader gets exactly
/// what its own statement would have read. Under load at one window (a week that many people open at once), most
/// reads of it cost a wait instead of a round trip and a connection; a lone read costs what it did and a lock.
final class OccupantsCoalescer: Sendable {
    /// A window of one resource, as the statement binds it.
    struct Window: Hashable, Sendable {
        var resource: String
        var startMilliseconds: Int64
        var endMilliseconds: Int64
    }

    /// Reads the occupants of a window with the holds live at `now` (milliseconds since 1970).
    typealias Fetch = @Sendable (_ now: Int64) async throws(BookingError) -> [SlotOccupant]

    private typealias Answer = Result<[SlotOccupant], BookingError>

    /// A read waiting for the next statement of its window; it is resumed with that statement's answer.
    private struct Reader {
        let now: Int64
        let continuation: CheckedContinuation<Answer?, Never>
    }

    /// The windows whose read runs, each with the readers waiting for its next statement (in order of arrival).
    private let running = Mutex<[Window: [Reader]]>([:])

    /// How many statements ran, shared or not (read by tests).
    private let statementCount = Atomic<Int>(0)

    /// A coalescer with no read running.
    init() {}

    /// The occupants of `window` with the holds live at `now`, from a statement that started after this call did:
    /// the caller's own, made with `fetch`, or one shared with the reads of `window` that arrived while another ran.
    func read(_ window: Window, now: Int64, fetch: @escaping Fetch) async throws(BookingError) -> [SlotOccupant] {
        let shared: Answer? = await withCheckedContinuation { continuation in
            let leads = running.withLock { running -> Bool in
                guard running[window] != nil else {
                    running[window] = []
                    return true
                }
                running[window, default: []].append(Reader(now: now, continuation: continuation))
                return false
            }
            if leads { continuation.resume(returning: nil) }
        }
        if let shared { return try Self.live(shared, at: now).get() }
        let answer = await run(fetch, now: now)
        if let waiting = nextReaders(of: window) {
            Task { await self.shareReads(of: window, with: waiting, fetch: fetch) }
        }
        return try answer.get()
    }

    /// How many statements ran since the coalescer was made.
    var statements: Int { statementCount.load(ordering: .relaxed) }

    /// How many reads wait for a statement of their window.
    var waitingCount: Int { running.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// Runs the statements of `window` for its waiting readers, each for those that arrived while the one before
    /// ran, until none waits.
    private func shareReads(of window: Window, with readers: [Reader], fetch: Fetch) async {
        var readers = readers
        while true {
            let earliest = readers.lazy.map(\.now).min() ?? 0
            let answer = await run(fetch, now: earliest)
            for reader in readers { reader.continuation.resume(returning: answer) }
            guard let waiting = nextReaders(of: window) else { return }
            readers = waiting
        }
    }

    private func run(_ fetch: Fetch, now: Int64) async -> Answer {
        statementCount.add(1, ordering: .relaxed)
        do { return .success(try await fetch(now)) } catch { return .failure(error) }
    }

    /// The readers that wait for the next statement of `window`, taken from the queue (the window's read keeps
    /// running, for them); `nil`, and the window no longer running, when none waits.
    private func nextReaders(of window: Window) -> [Reader]? {
        running.withLock { running in
            guard let waiting = running[window], !waiting.isEmpty else {
                running[window] = nil
                return nil
            }
            running[window] = []
            return waiting
        }
    }

    /// `answer` without the holds lapsed at `now`: what a statement asking at `now` would have read. The same
    /// array when none lapsed.
    private static func live(_ answer: Answer, at now: Int64) -> Answer {
        answer.map { occupants in
            func live(_ occupant: SlotOccupant) -> Bool {
                guard let expiry = occupant.holdExpiresAt else { return true }
                return expiry.millisecondsSince1970 > now
            }
            return occupants.allSatisfy(live) ? occupants : occupants.filter(live)
        }
    }
}
