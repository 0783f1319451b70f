import Foundation
import Testing

@testable import BookingDomain

@Suite("Request fingerprints")
struct RequestFingerprintTests {
    static func request(name: String = "Ada Lovelace", note: String? = "Second floor") throws -> ValidatedRequest {
        try BookingRequest(
            slotStart: Date(timeIntervalSince1970: 1_800_000_000), slotEnd: Date(timeIntervalSince1970: 1_800_001_800),
            name: name, email: "ada@example.com", note: note, resource: "dr-lee",
            idempotencyKey: "key-1"
        ).validated()
    }

    @Test(
        "a request's fingerprint is the one earlier releases stored with its key, so a retry after an upgrade replays rather than being refused"
    )
    func pinned() throws {
        // SHA-256 of each field's UTF-8 length, a colon and the field, in order: resource, start and end in Unix
        // milliseconds, name, email, and the note or NUL for none (computed apart, with Python's hashlib).
        #expect(try Self.request().fingerprint == "8d0bd4ef267e5a7594426d3964d7c768737f951c735709bf298b427be72a2681")
        #expect(
            try Self.request(note: nil).fingerprint
                == "f2fc20d426c84ffec78091aa50e946326cf3eb1784620cafe4b72b86b6ca4639")
    }

    @Test("a field's length is counted in UTF-8 bytes, and the empty text hashes as SHA-256 of nothing")
    func bytesCounted() throws {
        // "Zoë Ångström" (precomposed) is 12 characters and 15 bytes: "15:Zoë Ångström" (hashlib, as above).
        #expect(
            try Self.request(name: "Zo\u{EB} \u{C5}ngstr\u{F6}m").fingerprint
                == "38cbcf89105eb1852c863f9f07a398372f6572c738c8c38daf20e323d07b513f")
        #expect(SecretToken.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("each field is length-prefixed: moving characters from one field to the next changes the fingerprint")
    func fieldsKeptApart() throws {
        #expect(
            try Self.request(name: "Ada Lovelac", note: "eSecond floor").fingerprint != Self.request().fingerprint)
    }
}
