public import Foundation

/// How a leased notification's attempt ended, as recorded by ``BookingStore/finish(notification:owner:outcome:)``.
public enum DeliveryOutcome: Hashable, Sendable {
    /// Delivered at the given time: status `sent`.
    case sent(at: Date)
    /// Failed; try again at `nextAttemptAt`: status stays `pending`, the error is kept.
    case retry(error: String, nextAttemptAt: Date, now: Date)
    /// Failed for good: status `failed`, the error is kept.
    case failed(error: String, now: Date)
    /// Not attempted (shutdown): the lease is dropped and the claimed attempt is not counted.
    case released(now: Date)
    /// Not to be sent: a `reminder` whose appointment is no longer booked, or moved since the reminder was
    /// written. Status `obsolete` (never claimed again); the claimed attempt is not counted.
    case obsolete(now: Date)
}
