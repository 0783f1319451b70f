import Foundation
import Testing

@testable import BookingDomain

@Suite("secret tokens")
struct SecretTokenTests {
    @Test("base64url matches Foundation's base64 with the URL alphabet and no padding, for every length 0-64")
    func base64URLMatchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(SecretToken.base64URL(bytes) == expected, "\(bytes)")
        }
    }

    @Test("a token is 32 random bytes in base64url without padding, different every time")
    func generate() {
        let tokens = (0..<100).map { _ in SecretToken.generate() }
        #expect(Set(tokens).count == 100)
        for token in tokens {
            #expect(token.count == 43)
            #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        }
    }

    @Test(
        "a derived token is HMAC-SHA256 of the purpose keyed with the secret, in base64url: one per purpose and secret")
    func derived() {
        // HMAC-SHA256 of the well-known pangram keyed with "key": f7bc83f4...2d1a3cd8.
        #expect(
            SecretToken.derived(from: "key", for: "The quick brown fox jumps over the lazy dog")
                == "97yD9DBThCSxMpjmqm-xQ-9NWaFJRhdZl0edvC0aPNg")
        let token = SecretToken.derived(from: "feed-secret-0123456789", for: "calendar-feed:dr-lee")
        #expect(token.count == 43)
        #expect(SecretToken.derived(from: "feed-secret-0123456789", for: "calendar-feed:dr-lee") == token)
        #expect(SecretToken.derived(from: "feed-secret-0123456789", for: "calendar-feed:dr-lea") != token)
        #expect(SecretToken.derived(from: "feed-secret-0123456788", for: "calendar-feed:dr-lee") != token)
    }

    @Test("the stored form is the SHA-256 in lowercase hex (FIPS 180-2 vector), and only the right token matches it")
    func hashAndMatch() {
        let stored = SecretToken.sha256Hex("abc")
        #expect(stored == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SecretToken.matches("abc", storedHash: stored))
        #expect(SecretToken.matches("abc", storedHash: stored.uppercased()))
        #expect(!SecretToken.matches("abd", storedHash: stored))
        #expect(!SecretToken.matches("abc", storedHash: String(stored.dropLast(2))), "a short hash")
        #expect(!SecretToken.matches("abc", storedHash: String(stored.dropLast()) + "g"), "not hex")
        #expect(!SecretToken.matches("", storedHash: ""))
    }
}
