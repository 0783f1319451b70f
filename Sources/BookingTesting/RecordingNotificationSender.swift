public import BookingDomain
import Synchronization

/// A sender for tests: records every delivery, fails on cue, and notices overlapping deliveries.
///
/// ```swift
/// let sender = RecordingNotificationSender { delivery, attempt in
///     attempt < 3 ? .transient("try later") : nil   // fail twice, then succeed
/// }
/// ```
public final class RecordingNotificationSender: NotificationSender {
    /// Decides the outcome of an attempt: `nil` delivers, a failure is thrown. `attempt` counts this
    /// sender's calls for the notification, from 1.
    public typealias Script = @Sendable (NotificationDelivery, _ attempt: Int) -> DeliveryFailure?

    private struct State {
        var delivered: [NotificationDelivery] = []
        var calls: [Int64: Int] = [:]
        var inFlight: Set<Int64> = []
        var overlaps: [Int64] = []
    }

    /// Work done during a call, while the delivery counts as in flight: e.g. move a `ManualWallClock`,
    /// let another dispatcher run, or wait without honouring cancellation. `attempt` is as in ``Script``.
    public typealias Action = @Sendable (NotificationDelivery, _ attempt: Int) async -> Void

    private let state = Mutex(State())
    private let script: Script
    private let delay: Duration
    private let action: Action?

    /// Creates a sender that follows `script` (default: always deliver), taking `delay` per call.
    public init(delay: Duration = .zero, script: @escaping Script = { _, _ in nil }) {
        self.delay = delay
        self.script = script
        self.action = nil
    }

    /// Creates a sender that runs `action` during each call, then follows `script` (default: always deliver).
    ///
    /// ```swift
    /// let clock = ManualWallClock(now: start)
    /// let slow = RecordingNotificationSender(whileSending: { _, _ in clock.advance(by: .seconds(20)) })
    /// ```
    public init(whileSending action: @escaping Action, script: @escaping Script = { _, _ in nil }) {
        self.delay = .zero
        self.script = script
        self.action = action
    }

    /// Records the call and applies the script.
    public func send(_ delivery: NotificationDelivery) async throws {
        let id = delivery.notification.id
        let attempt = state.withLock { state in
            if !state.inFlight.insert(id).inserted { state.overlaps.append(id) }
            state.calls[id, default: 0] += 1
            return state.calls[id, default: 1]
        }
        defer { _ = state.withLock { $0.inFlight.remove(id) } }
        // At most a year: a delay of `.seconds(Int64.max)` ("never answers") would overflow the sleep's deadline.
        if delay > .zero { try await Task.sleep(for: min(delay, .seconds(366 * 86_400))) }
        if let action { await action(delivery, attempt) }
        if let failure = script(delivery, attempt) { throw failure }
        state.withLock { $0.delivered.append(delivery) }
    }

    /// Successful deliveries, in order.
    public var delivered: [NotificationDelivery] { state.withLock { $0.delivered } }

    /// How many times `send` was called for each notification id.
    public var calls: [Int64: Int] { state.withLock { $0.calls } }

    /// Notification ids that were being delivered twice at the same moment (should stay empty).
    public var overlappingDeliveries: [Int64] { state.withLock { $0.overlaps } }
}
