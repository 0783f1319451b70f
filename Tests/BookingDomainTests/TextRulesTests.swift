import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Testing

@Suite("text rules: control characters refused, the text people write kept")
struct TextRulesTests {
    let clock = ManualWallClock(now: instant("2027-03-01T08:00:00Z"))
    let store = InMemoryStore()
    var service: BookingService {
        BookingService(store: store, configuration: .init(defaultSchedule: .standard(in: zone("UTC"))), clock: clock)
    }

    func request(name: String = "Ada Lovelace", email: String = "ada@example.com", note: String? = nil)
        -> BookingRequest
    {
        BookingRequest(
            slotStart: instant("2027-03-01T10:00:00Z"), slotEnd: instant("2027-03-01T10:30:00Z"), name: name,
            email: email, note: note)
    }

    @Test(
        "NUL, other C0 controls, DEL and C1 controls are refused in the name, email and note, naming the field",
        arguments: ["\u{0}", "\u{1}", "\u{1B}", "\u{7F}", "\u{85}", "\u{9F}"])
    func controlsAreRefused(_ control: String) async throws {
        for (field, request) in [
            ("name", request(name: "Ada\(control)Lovelace")),
            ("email", request(email: "ada\(control)@example.com")),
            ("note", request(note: "first\(control)second")),
        ] {
            let error = await #expect(throws: BookingError.self) { try await service.book(request) }
            #expect(error?.code == .invalidInput)
            #expect(
                error?.fieldErrors.keys.sorted() == [field], "\(field) with U+\(control.unicodeScalars.first!.value)")
        }
        #expect(await store.appointments().isEmpty)
    }

    @Test(
        "an email with a space, a line separator or a format character is refused; printable ASCII and letters are not",
        arguments: [
            ("ada lovelace@example.com", false), ("ada\u{A0}@example.com", false), ("ada\u{3000}@example.com", false),
            ("ada\u{2028}@example.com", false), ("ada\u{200B}@example.com", false), ("ada\u{FEFF}@example.com", false),
            ("a+b.c!#$%&'*/=?^_`{|}~-@example.com", true), ("zoë@exämple.com", true),
        ])
    func emailCharacters(_ email: String, accepted: Bool) async throws {
        do {
            let booked = try await service.book(request(email: email))
            #expect(accepted, "\(email) was booked")
            #expect(booked.appointment.customerEmail == email)
        } catch {
            #expect(!accepted, "\(email) was refused")
            #expect(error.fieldErrors["email"] == "must not contain spaces or control characters")
        }
    }

    @Test(
        "an email is one @ after a non-empty name, then two or more non-empty labels; in ASCII as in other text",
        arguments: [
            ("a@b.co", true), ("a.b@c.d.e", true), ("@b.co", false), ("a@", false), ("a@b", false), ("a@.co", false),
            ("a@b.", false), ("a@b..co", false), ("a@@b.co", false), ("a@b@c.co", false), ("a.b.co", false),
            ("zoë@b.co", true), ("zoë@b", false), ("@exämple.com", false), ("zoë@exämple..com", false),
            ("zoë@b@c.co", false),
        ])
    func emailShape(_ email: String, accepted: Bool) async throws {
        do {
            _ = try await service.book(request(email: email))
            #expect(accepted, "\(email) was booked")
        } catch {
            #expect(!accepted, "\(email) was refused")
            #expect(error.fieldErrors["email"] == "must be an address like name@example.com")
        }
    }

    @Test("a tab or a newline inside the name is refused; in the note it is kept")
    func lineBreaks() async throws {
        let error = await #expect(throws: BookingError.self) { try await service.book(request(name: "Ada\nLovelace")) }
        #expect(error?.fieldErrors["name"] != nil)
        let booked = try await service.book(request(note: "line one\r\n\tline two"))
        #expect(booked.appointment.note == "line one\r\n\tline two")
    }

    @Test(
        "names that need joiners and marks are accepted and kept exactly",
        arguments: [
            "👩🏽‍💻 Ada", "می‌خواهم", "श्री‌मान", "Zoë Ångström", "e\u{301}le\u{300}ve", "שלום עליכם", "𝔄𝔡𝔞 𠜎",
        ])
    func textPeopleWrite(_ name: String) async throws {
        let booked = try await service.book(request(name: name, note: name))
        #expect(booked.appointment.customerName == name)
        #expect(booked.appointment.note == name)
    }
}
