import BookingDomain
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

@testable import BookingServer

@Suite("appointment JSON writer")
struct AppointmentJSONTests {
    /// What `JSONEncoder` writes for a value, with the answers' settings.
    static func encodedByJSONEncoder(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// Every ASCII character alone, then text that needs no escape, every escape at once, and UTF-8 of
    /// every length (U+2028 and U+FEFF included, which `JSONEncoder` leaves as they are).
    static let texts: [String] =
        (0..<0x80).map { String(Unicode.Scalar(UInt8($0))) } + [
            "", "Ada Lovelace", "a/b\\c\"d", "\u{0}\u{1}\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{1F}\u{7F}",
            "Zoë Ångström", "\u{80}\u{9F}\u{2028}\u{2029}\u{FEFF}", "👩🏽‍💻 𝔄𝔡𝔞 𠜎", "line one\r\n\tline two",
            "Zoë\t\"Å\"\\😀\u{1}",
        ]

    @Test("a string member is escaped exactly as JSONEncoder escapes it")
    func stringsAsJSONEncoder() throws {
        for text in Self.texts {
            var object = JSONObjectWriter(capacity: 1)
            object.member("text", text)
            #expect(
                Array(object.finish().readableBytesView) == (try Self.encodedByJSONEncoder(["text": text])),
                "\(Array(text.unicodeScalars.map(\.value)))")
        }
    }

    @Test("integers, null and several members are written as JSONEncoder writes them")
    func membersAsJSONEncoder() throws {
        struct Members: Encodable {
            let a: Int64
            let b: Nullable<String>
            let c: Int
        }
        for (a, c) in [(Int64.min, Int.max), (0, -1), (42, 7)] {
            var object = JSONObjectWriter()
            object.member("a", a)
            object.member("b", nil)
            object.member("c", c)
            #expect(
                Array(object.finish().readableBytesView)
                    == (try Self.encodedByJSONEncoder(Members(a: a, b: Nullable(nil), c: c))))
        }
    }

    @Test("an appointment is written as JSONEncoder writes it with sorted keys, with and without its token")
    func appointmentsAsJSONEncoder() throws {
        let start = Date(millisecondsSince1970: 1_803_888_000_000)
        for (index, text) in Self.texts.enumerated() {
            let cancelled = index.isMultiple(of: 2)
            let appointment = Appointment(
                id: Int64(index + 1) * 1_000_003, resource: ResourceID(rawValue: "dr-lee.room_2")!,
                slot: try TimeSlot(start: start, end: start.addingTimeInterval(1800)),
                occupied: try TimeSlot(start: start, end: start.addingTimeInterval(1800)),
                customerName: "name \(text)", customerEmail: "a\(index)@example.com",
                note: index.isMultiple(of: 3) ? nil : text, status: cancelled ? .cancelled : .booked,
                createdAt: Date(millisecondsSince1970: 1_803_800_000_123),
                updatedAt: Date(millisecondsSince1970: 1_803_800_000_456),
                cancelledAt: cancelled ? Date(millisecondsSince1970: 1_803_800_000_456) : nil, sequence: index % 4)
            for token in [nil, "token-\(text)"] {
                let json = AppointmentJSON(appointment, cancelToken: token)
                #expect(Array(json.buffer().readableBytesView) == (try Self.encodedByJSONEncoder(json)), "\(index)")
                let response = json.response(status: .created, headers: [.idempotentReplayed: "true"])
                #expect(response.status == .created)
                let encoded = try JSONResponse.make(json, status: .created, headers: [.idempotentReplayed: "true"])
                #expect(response.headers == encoded.headers)
            }
        }
    }
}
