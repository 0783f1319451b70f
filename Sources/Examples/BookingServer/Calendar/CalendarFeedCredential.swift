import BookingDomain
import Foundation

/// The calendar feeds' credentials: the feed secret (`--calendar-feed-secret`), which opens every resource's feed,
/// and each resource's feed key, derived from the secret, which opens that resource's feed alone (the one to give
/// its staff). Both are kept as their SHA-256 and compared in constant time (``BookingDomain/SecretToken``).
struct CalendarFeedCredential: Sendable {
    private let secretHash: String
    /// Each served resource's feed key, and the key's SHA-256.
    private let keys: [ResourceID: (key: String, hash: String)]

    /// The credentials of `secret` for the feeds of `resources`.
    init(secret: String, resources: [ResourceID]) {
        secretHash = SecretToken.sha256Hex(secret)
        var keys: [ResourceID: (key: String, hash: String)] = [:]
        for resource in resources {
            let key = Self.key(of: resource, secret: secret)
            keys[resource] = (key, SecretToken.sha256Hex(key))
        }
        self.keys = keys
    }

    /// The feed key of `resource` under `secret`: 43 characters of base64url, a new one whenever the secret changes.
    static func key(of resource: ResourceID, secret: String) -> String {
        SecretToken.derived(from: secret, for: "swift-booking calendar feed of " + resource.rawValue)
    }

    /// The feed key of `resource`, or `nil` for a resource the host does not serve.
    func key(of resource: ResourceID) -> String? { keys[resource]?.key }

    /// Whether `presented` is the feed secret; a percent-encoded form of it counts too.
    func isSecret(_ presented: String) -> Bool {
        Self.equal(Self.hash(presented), secretHash)
    }

    /// Whether `presented` is the feed key of any served resource.
    func isKey(_ presented: String) -> Bool {
        let presentedHash = Self.hash(presented)
        // Every key is compared, so the time taken tells nothing of which one matched.
        return keys.values.reduce(false) { found, entry in Self.equal(presentedHash, entry.hash) || found }
    }

    /// Whether `presented` opens the feed of `resource`: the feed secret, or that resource's own key.
    func opens(_ resource: ResourceID, with presented: String) -> Bool {
        guard let entry = keys[resource] else { return false }
        let presentedHash = Self.hash(presented)
        let isKey = Self.equal(presentedHash, entry.hash)
        return Self.equal(presentedHash, secretHash) || isKey
    }

    /// The SHA-256 (lowercase hex) of what was presented, percent-decoded: made once per request, whatever the number
    /// of keys it is compared with.
    private static func hash(_ presented: String) -> String {
        SecretToken.sha256Hex(presented.removingPercentEncoding ?? presented)
    }

    /// Whether two digests are equal, in time independent of where they differ.
    private static func equal(_ first: String, _ second: String) -> Bool {
        let (a, b) = (Array(first.utf8), Array(second.utf8))
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
