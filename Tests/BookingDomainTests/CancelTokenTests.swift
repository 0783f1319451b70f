import Foundation
import Testing

@testable import BookingDomain

@Suite("cancel tokens")
struct CancelTokenTests {
    @Test("base64url matches Foundation's base64 with the URL alphabet and no padding, for every length 0-64")
    func base64URLMatchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(CancelToken.base64URL(bytes) == expected, "\(bytes)")
        }
    }

    @Test("a token is 43 base64url characters, and two tokens differ")
    func tokenShape() {
        let token = CancelToken.generate()
        #expect(token.count == 43)
        #expect(token.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0.isASCIIAlphanumeric })
        #expect(CancelToken.generate() != token)
    }

    @Test("the stored hash is lowercase hex SHA-256, and matches only its token")
    func hash() {
        let expected = "3c469e9d6c5875d37a43f353d4f88e61fcf812c66eee3457465a40b0da4153e0"
        #expect(CancelToken.sha256Hex("token") == expected)
        #expect(CancelToken.matches("token", storedHash: expected))
        #expect(!CancelToken.matches("tokeN", storedHash: expected))
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
