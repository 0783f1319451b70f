import BookingDomain
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import WebhookSender

@Suite("Standard Webhooks signatures")
struct WebhookSignatureTests {
    // The specification's published test vector: the "sign function works" test of the reference
    // libraries, standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts
    // (the same values appear in the other languages' tests).
    let vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let vectorID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    let vectorTimestamp: Int64 = 1_614_265_330
    let vectorBody = Data(#"{"test": 2432232314}"#.utf8)
    let vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    var vectorNow: Date { Date(timeIntervalSince1970: TimeInterval(vectorTimestamp)) }

    func verifyVector(
        id: String? = nil, timestamp: String? = nil, signatureHeader: String? = nil, body: Data? = nil,
        secrets: [String]? = nil, now: Date? = nil
    ) throws {
        try WebhookSignature.verify(
            id: id ?? vectorID, timestamp: timestamp ?? String(vectorTimestamp),
            signatureHeader: signatureHeader ?? vectorSignature, body: body ?? vectorBody,
            secrets: try (secrets ?? [vectorSecret]).map { try WebhookSecret($0) }, now: now ?? vectorNow)
    }

    func reason(_ body: () throws -> Void) -> WebhookSignature.VerificationError.Reason? {
        #expect(throws: WebhookSignature.VerificationError.self) { try body() }?.reason
    }

    @Test("signing reproduces the specification's test vector, and verifying accepts it")
    func specificationVector() throws {
        let secret = try WebhookSecret(vectorSecret)
        #expect(
            WebhookSignature.sign(id: vectorID, timestamp: vectorTimestamp, body: vectorBody, secret: secret)
                == vectorSignature)
        try verifyVector()
    }

    @Test("a secret read from a file keeps its line break: white space around it is ignored, inside it is not")
    func secretWithLineBreak() throws {
        let secret = try WebhookSecret(vectorSecret + "\n")
        #expect(
            WebhookSignature.sign(id: vectorID, timestamp: vectorTimestamp, body: vectorBody, secret: secret)
                == vectorSignature)
        _ = try WebhookSecret("  \(vectorSecret)\r\n")
        let inside = #expect(throws: BookingError.self) {
            try WebhookSecret(String(vectorSecret.prefix(12)) + " " + vectorSecret.dropFirst(12))
        }
        #expect(inside?.fieldErrors["webhookSecret"]?.contains("valid base64") == true)
    }

    @Test("a header listing several signatures, some of other versions or wrong, verifies if one matches")
    func multipleSignatures() throws {
        let header = [
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
            "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==",
            vectorSignature,
        ].joined(separator: " ")
        try verifyVector(signatureHeader: header)
        #expect(
            reason { try verifyVector(signatureHeader: "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=") }
                == .noMatchingSignature)
    }

    @Test("rotation: two secrets give two signatures, and a receiver holding either secret verifies")
    func rotation() throws {
        let old = try WebhookSecret(vectorSecret)
        let new = try WebhookSecret(WebhookSecret.generate())
        let header = WebhookSignature.signatures(
            id: vectorID, timestamp: vectorTimestamp, body: vectorBody, secrets: [new, old])
        let parts = header.split(separator: " ").map(String.init)
        #expect(parts.count == 2)
        #expect(parts.last == vectorSignature)
        #expect(
            parts.first
                == WebhookSignature.sign(id: vectorID, timestamp: vectorTimestamp, body: vectorBody, secret: new))
        for secrets in [[old], [new], [new, old]] {
            try WebhookSignature.verify(
                id: vectorID, timestamp: String(vectorTimestamp), signatureHeader: header, body: vectorBody,
                secrets: secrets, now: vectorNow)
        }
        let stranger = try WebhookSecret(WebhookSecret.generate())
        #expect(
            #expect(throws: WebhookSignature.VerificationError.self) {
                try WebhookSignature.verify(
                    id: vectorID, timestamp: String(vectorTimestamp), signatureHeader: header, body: vectorBody,
                    secrets: [stranger], now: vectorNow)
            }?.reason == .noMatchingSignature)
    }

    @Test(
        "the timestamp must be within 5 minutes of now, in the past or the future",
        arguments: [(-301, false), (-300, true), (-1, true), (0, true), (1, true), (300, true), (301, false)])
    func tolerance(offset: Int, accepted: Bool) throws {
        // The receiver's clock is `offset` seconds after the signed timestamp.
        let now = vectorNow.addingTimeInterval(TimeInterval(offset))
        if accepted {
            try verifyVector(now: now)
        } else {
            #expect(reason { try verifyVector(now: now) } == .timestampOutsideTolerance)
        }
    }

    @Test("the tolerance can be tightened")
    func customTolerance() throws {
        let secrets = [try WebhookSecret(vectorSecret)]
        #expect(
            #expect(throws: WebhookSignature.VerificationError.self) {
                try WebhookSignature.verify(
                    id: vectorID, timestamp: String(vectorTimestamp), signatureHeader: vectorSignature,
                    body: vectorBody, secrets: secrets, now: vectorNow.addingTimeInterval(31), tolerance: .seconds(30))
            }?.reason == .timestampOutsideTolerance)
    }

    @Test("a tolerance past what Int64 counts in seconds accepts any timestamp, never a trap")
    func endlessTolerance() throws {
        let secrets = [try WebhookSecret(vectorSecret)]
        for tolerance in [Duration.seconds(1e19), .seconds(Int64.max) + .seconds(1)] {
            try WebhookSignature.verify(
                id: vectorID, timestamp: String(vectorTimestamp), signatureHeader: vectorSignature, body: vectorBody,
                secrets: secrets, now: vectorNow.addingTimeInterval(1e12), tolerance: tolerance)
        }
    }

    @Test("a tampered body, id or timestamp, or a truncated signature, matches no signature")
    func tampering() throws {
        #expect(reason { try verifyVector(body: Data(#"{"test": 2432232315}"#.utf8)) } == .noMatchingSignature)
        #expect(reason { try verifyVector(body: Data(#"{"test":2432232314}"#.utf8)) } == .noMatchingSignature)
        #expect(reason { try verifyVector(id: "msg_p5jXN8AQM9LWM0D4loKWxJeK") } == .noMatchingSignature)
        #expect(
            reason { try verifyVector(timestamp: String(vectorTimestamp + 1), now: vectorNow) }
                == .noMatchingSignature)
        #expect(
            reason { try verifyVector(signatureHeader: String(vectorSignature.prefix(20))) } == .noMatchingSignature)
        #expect(reason { try verifyVector(signatureHeader: "v1,") } == .noMatchingSignature)
        #expect(reason { try verifyVector(signatureHeader: "v1,dawfeoifkpqwoekfpqoekf") } == .noMatchingSignature)
        let other = "whsec_" + Data(repeating: 1, count: 32).base64EncodedString()
        #expect(reason { try verifyVector(secrets: [other]) } == .noMatchingSignature)
    }

    @Test("a missing header or a timestamp that is not Unix seconds is refused, saying which")
    func malformedHeaders() throws {
        let secrets = [try WebhookSecret(vectorSecret)]
        func verify(_ id: String?, _ timestamp: String?, _ signature: String?) -> WebhookSignature.VerificationError? {
            #expect(throws: WebhookSignature.VerificationError.self) {
                try WebhookSignature.verify(
                    id: id, timestamp: timestamp, signatureHeader: signature, body: vectorBody, secrets: secrets,
                    now: vectorNow)
            }
        }
        let stamp = String(vectorTimestamp)
        #expect(verify(nil, stamp, vectorSignature)?.reason == .missingHeader)
        #expect(verify(vectorID, nil, vectorSignature)?.message == "the webhook-timestamp header is missing")
        #expect(verify(vectorID, stamp, "")?.message == "the webhook-signature header is missing")
        for bad in ["hello", "-1614265330", "1614265330.5", "+1614265330", "99999999999999999999"] {
            #expect(verify(vectorID, bad, vectorSignature)?.reason == .invalidTimestamp, "\(bad)")
        }
    }

    @Test("a generated secret parses, holds 32 random bytes, and never shows itself in descriptions")
    func generatedSecret() throws {
        let text = WebhookSecret.generate()
        #expect(text.hasPrefix("whsec_"))
        #expect(Data(base64Encoded: String(text.dropFirst(6)))?.count == 32)
        #expect(WebhookSecret.generate() != text)
        let secret = try WebhookSecret(text)
        #expect("\(secret)" == "whsec_(hidden)")
        #expect(!String(reflecting: secret).contains(String(text.dropFirst(6))))
    }

    @Test("the receiver example in WebhookNotificationSender's documentation accepts signed deliveries only")
    func documentedReceiver() async throws {
        let router = Router()
        // Verbatim from the doc comment of WebhookNotificationSender.
        // Your secret, read from configuration; this literal is the specification's public test secret.
        let secrets = try [WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
        router.post("booking-hook") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 1 << 20)
            do {
                try WebhookSignature.verify(
                    id: request.headers[.init(WebhookSignature.idHeader)!],
                    timestamp: request.headers[.init(WebhookSignature.timestampHeader)!],
                    signatureHeader: request.headers[.init(WebhookSignature.signatureHeader)!],
                    body: Data(body.readableBytesView), secrets: secrets, now: Date())
            } catch {
                return .unauthorized
            }
            // At least once: if this webhook-id was already processed, stop here with 2xx.
            return .noContent
        }
        // End of the documented example.
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let url = try #require(URL(string: "http://127.0.0.1:\(port)/booking-hook"))
            let delivery = try WebhookSenderTests().delivery()
            let signed = WebhookNotificationSender(configuration: try .init(url: url, secrets: [vectorSecret]))
            try await signed.send(delivery)
            let wrong = WebhookNotificationSender(
                configuration: try .init(url: url, secrets: [WebhookSecret.generate()]))
            let failure = await #expect(throws: DeliveryFailure.self) { try await wrong.send(delivery) }
            #expect(failure?.reason == "HTTP 401" && failure?.isPermanent == true)
        }
    }
}
