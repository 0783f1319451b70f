import Foundation
import TestSupport
import Testing

@testable import BookingServer

@Suite("request bodies read by RFC 8259", .cpuBound)
struct JSONObjectMembersTests {
    typealias Value = JSONObjectMembers.Value

    static func read(_ text: String) -> Result<[String: Value], JSONObjectMembers.Failure> {
        Result { () throws(JSONObjectMembers.Failure) in try JSONObjectMembers.read(Array(text.utf8)) }
    }

    /// What Foundation's `JSONSerialization` reads from the same text, as members.
    static func foundation(_ bytes: [UInt8]) -> [String: Value]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        return object.mapValues { value in
            if let text = value as? String { return .string(text) }
            return value is NSNull ? .null : .other
        }
    }

    @Test("members: strings with every escape, null, and any other value as other")
    func members() throws {
        let text =
            #" { "a" : "x\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00" , "b":null,"c":-0.5e+3,"d":[1,{"e":[]}],"f":true,"g":{}}"#
        #expect(
            try Self.read(text).get() == [
                "a": .string("x\"\\/\u{8}\u{C}\n\r\té😀"), "b": .null, "c": .other, "d": .other, "f": .other,
                "g": .other,
            ])
        #expect(try Self.read("{}").get() == [:])
        #expect(
            try Self.read(#"{"":"","z":"\u0000","n":[-0,0e5,1E-2,0.5,-12.25e-3,{},[],[{}]],"s":"\ud83d\ude00é\n€"}"#)
                .get() == ["": .string(""), "z": .string("\u{0}"), "n": .other, "s": .string("😀é\n€")])
        #expect(try Self.read("\t{\"é\":\"ü\"}\r\n").get() == ["é": .string("ü")])
    }

    @Test(
        "text that is not JSON by RFC 8259 is refused as such",
        arguments: [
            "", " ", "{", "}", "{,}", #"{"a":1,}"#, #"{"a":1 "b":2}"#, #"{"a"}"#, #"{"a":}"#, #"{a:1}"#, #"{'a':1}"#,
            #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":-}"#, #"{"a":+1}"#, #"{"a":1e}"#, #"{"a":1e+}"#,
            #"{"a":NaN}"#, #"{"a":Infinity}"#, #"{"a":tru}"#, #"{"a":nul}"#, #"{"a":True}"#, #"{"a":[1,]}"#,
            #"{"a":[,1]}"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":"\uD800"}"#, #"{"a":"\uDC00"}"#,
            #"{"a":"\uD800\u0041"}"#, "{\"a\":\"\u{1}\"}", "{\"a\":\"\n\"}", "{\"a\u{1F}\":1}", #"{"a":"x"#,
            #"{"a":1}x"#, #"{"a":1}{}"#, "{\"a\":1}\u{0B}", "\u{A0}{}",
            "{\"a\":" + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}",
        ])
    func notJSON(_ text: String) {
        #expect(Self.read(text) == .failure(.notJSON), "\(text.debugDescription)")
    }

    @Test("JSON that is not an object, and objects that repeat a key at any depth, are told apart")
    func notAnObjectOrRepeated() {
        for text in ["[]", "1", "\"x\"", "null", "true", #"[{"a":1,"a":2}]"#] {
            #expect(Self.read(text) == .failure(.notAnObject), "\(text)")
        }
        for text in [
            #"{"a":1,"a":2}"#, #"{"n\u0061me":1,"name":2}"#, #"{"x":{"k":1,"k":null}}"#, #"{"x":[{"k":1,"k":1}]}"#,
        ] {
            #expect(Self.read(text) == .failure(.repeatedKey), "\(text)")
        }
        #expect(Self.read(#"{"a":1,"a":}"#) == .failure(.notJSON), "the grammar is decided first")
        #expect(Self.read(#"{"x":{"k":1},"y":{"k":1}}"#) != .failure(.repeatedKey), "one key in two objects is fine")
        let deepest = "{\"a\":" + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}"
        #expect((try? Self.read(deepest).get()) == ["a": .other])
        let objects = (0..<63).map { _ in "{\"k\":" }.joined() + "1" + String(repeating: "}", count: 63)
        #expect((try? Self.read("{\"k\":" + objects + "}").get()) == ["k": .other], "64 objects deep")
        #expect(Self.read("{\"k\":{\"k\":" + objects + "}}") == .failure(.notJSON), "65 objects deep")
    }

    @Test("every proper prefix of a body is not JSON, and reading it does not trap")
    func truncated() {
        let body = Array(#" {"a":"x\u00e9\ud83d\ude00€","b":[1,-2.5e+3,true,false,null,{"c":{}}],"d":null} "#.utf8)
        #expect((try? JSONObjectMembers.read(body)) != nil)
        for end in 0..<(body.count - 1) where String(validating: body[..<end], as: UTF8.self) != nil {
            #expect(throws: JSONObjectMembers.Failure.notJSON, "\(end)") {
                try JSONObjectMembers.read(Array(body[..<end]))
            }
        }
    }

    @Test("whatever it reads, Foundation reads the same members from (20,000 mutated bodies)")
    func neverMoreThanFoundation() {
        var generator = SeededGenerator(seed: 2026_11_28)
        let seeds = [
            #"{"slotStart":"2027-03-01T09:00:00Z","slotEnd":"2027-03-01T09:30:00Z","name":"Ada","email":"a@b.co"}"#,
            #"{"token":"x\u00e9\"y","note":null,"n":[1,-2.5e3,true,false,{"k":"v"}]}"#,
        ].map { Array($0.utf8) }
        let alphabet = Array(#"{}[]",:\/0123456789.-+eEtrufalsn u"#.utf8) + [0x09, 0x0A, 0x00, 0x1F, 0xC3, 0xA9]
        var accepted = 0
        for _ in 0..<20_000 {
            var bytes = seeds.randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let position = Int.random(in: 0...bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes.insert(alphabet.randomElement(using: &generator)!, at: position)
                case 1 where position < bytes.count: bytes.remove(at: position)
                default: if position < bytes.count { bytes[position] = alphabet.randomElement(using: &generator)! }
                }
            }
            guard String(validating: bytes, as: UTF8.self) != nil else { continue }
            guard let ours = try? JSONObjectMembers.read(bytes) else { continue }
            accepted += 1
            #expect(Self.foundation(bytes) == ours, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
        #expect(accepted > 1000, "the mutations left enough valid bodies to compare")
    }
}
