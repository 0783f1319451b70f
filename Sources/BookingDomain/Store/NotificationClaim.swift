public import Foundation

/// A request to lease due notifications to one worker.
public struct NotificationClaim: Hashable, Sendable {
    /// Identifies this claim; completing, failing, renewing or releasing must name it.
    ///
    /// Use a fresh value per claim (``NotificationDispatcher`` does), so a worker
    /// whose lease was taken over cannot overwrite the newer outcome. The form is
    /// `"<workerID>/<claim-id>"`, with no `/` in the worker id, so that
    /// ``BookingStore/releaseLeases(ofWorker:now:)`` can find one worker's claims.
    public var owner: String
    /// The most notifications to lease.
    public var limit: Int
    /// The current time: notifications with `nextAttemptAt <= now` and no live lease are due.
    public var now: Date
    /// When the lease lapses.
    public var leaseExpiresAt: Date

    /// Creates a claim request.
    public init(owner: String, limit: Int, now: Date, leaseExpiresAt: Date) {
        self.owner = owner
        self.limit = limit
        self.now = now
        self.leaseExpiresAt = leaseExpiresAt
    }

    /// The order a claim answers in: oldest due first (`nextAttemptAt`), then by id.
    public static func dueOrder(_ first: BookingNotification, _ second: BookingNotification) -> Bool {
        (first.nextAttemptAt, first.id) < (second.nextAttemptAt, second.id)
    }
}
