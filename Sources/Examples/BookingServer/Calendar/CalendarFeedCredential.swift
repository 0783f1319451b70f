import BookingDomain
import Foundation

/// The calendar feed's secret (`--calendar-feed-secret`), kept as its SHA-256 and compared in constant
/// time (``BookingDomain/SecretToken``).
struct CalendarFeedCredential: Sendable {
    private let secretHash: String

    init(secret: String) { secretHash = SecretToken.sha256Hex(secret) }

    /// Whether `presented` is the secret; a percent-encoded form of it counts too.
    func matches(_ presented: String) -> Bool {
        SecretToken.matches(presented.removingPercentEncoding ?? presented, storedHash: secretHash)
    }
}
