import BookingDomain
import Foundation
import Testing

@Suite("appointment calendar files (RFC 5545, RFC 5546)")
struct AppointmentCalendarTests {
    let calendar = AppointmentCalendar(domain: "booking.example.com")
    let now = instant("2027-12-20T08:15:30Z")

    func appointment(
        id: Int64 = 12, status: Appointment.Status = .booked, sequence: Int = 0, note: String? = nil
    ) throws -> Appointment {
        let slot = try TimeSlot(start: instant("2027-12-24T09:00:00Z"), end: instant("2027-12-24T09:30:00Z"))
        return Appointment(
            id: id, resource: .default, slot: slot, occupied: slot, customerName: "Ada Lovelace",
            customerEmail: "ada@example.com", note: note, status: status, createdAt: instant("2027-12-01T10:00:00Z"),
            updatedAt: instant("2027-12-02T11:00:00Z"), cancelledAt: status == .cancelled ? now : nil,
            sequence: sequence)
    }

    /// The unfolded content lines of `text`.
    func lines(_ text: String) -> [String] {
        text.replacingOccurrences(of: "\r\n ", with: "").split(separator: "\r\n").map(String.init)
    }

    @Test("a booked appointment is a REQUEST with one confirmed VEVENT: UID, DTSTAMP now, SEQUENCE, UTC times")
    func request() throws {
        let file = calendar.message(for: try appointment(sequence: 2), summary: "Appointment: Dr. Lee", now: now)
        #expect(
            lines(file) == [
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//swift-booking//booking-server 1.0//EN",
                "CALSCALE:GREGORIAN", "METHOD:REQUEST", "BEGIN:VEVENT",
                "UID:appointment-12-1827655200000@booking.example.com",
                "DTSTAMP:20271220T081530Z", "SEQUENCE:2", "DTSTART:20271224T090000Z", "DTEND:20271224T093000Z",
                "SUMMARY:Appointment: Dr. Lee", "STATUS:CONFIRMED", "ORGANIZER:mailto:noreply@booking.example.com",
                "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:ada@example.com",
                "CREATED:20271201T100000Z",
                "LAST-MODIFIED:20271202T110000Z", "END:VEVENT", "END:VCALENDAR",
            ])
    }

    @Test("a cancelled appointment is a CANCEL with STATUS:CANCELLED and the same UID")
    func cancel() throws {
        let cancelled = try appointment(status: .cancelled, sequence: 1)
        #expect(AppointmentCalendar.method(for: cancelled) == "CANCEL")
        let file = lines(calendar.message(for: cancelled, summary: "Appointment", now: now))
        #expect(file.contains("METHOD:CANCEL") && file.contains("STATUS:CANCELLED") && file.contains("SEQUENCE:1"))
        #expect(file.contains("UID:appointment-12-1827655200000@booking.example.com"))
        #expect(file.contains("ORGANIZER:mailto:noreply@booking.example.com"), "RFC 5546 CANCEL names the organizer")
        #expect(file.contains { $0.hasPrefix("ATTENDEE;") && $0.hasSuffix(":mailto:ada@example.com") })
    }

    @Test("a UID is never another appointment's: one of the same id created at another instant has its own")
    func uidUnique() throws {
        let first = try appointment(id: 12)
        var recreated = first
        recreated.createdAt = first.createdAt.addingTimeInterval(0.001)
        #expect(calendar.uid(of: first) == "appointment-12-1827655200000@booking.example.com")
        #expect(calendar.uid(of: recreated) == "appointment-12-1827655200001@booking.example.com")
        var moved = first
        moved.slot = try TimeSlot(start: instant("2027-12-25T09:00:00Z"), end: instant("2027-12-25T09:30:00Z"))
        moved.sequence = 3
        #expect(calendar.uid(of: moved) == calendar.uid(of: first), "a move keeps the UID")
    }

    @Test("the organizer can be set, and an address a URI cannot hold as it is gets percent-encoded")
    func participants() throws {
        var customer = try appointment()
        customer.customerEmail = "o'neil, jr@example.com"
        let custom = AppointmentCalendar(domain: "booking.example.com", organizer: "desk@clinic.example")
        let file = lines(custom.message(for: customer, summary: "Appointment", now: now))
        #expect(file.contains("ORGANIZER:mailto:desk@clinic.example"))
        #expect(
            file.contains(
                "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:o'neil%2C%20jr@example.com"))
    }

    @Test("a feed has no METHOD, one event per appointment stamped with its last change, and escaped text")
    func feed() throws {
        let first = try appointment(id: 1, note: "Bring notes; X-rays, too\nand the letter")
        let second = try appointment(id: 2, status: .cancelled)
        let text = calendar.feed(
            name: "Dr. Lee", appointments: [first, second], summary: { $0.customerName },
            description: { $0.note })
        let file = lines(text)
        #expect(!file.contains { $0.hasPrefix("METHOD") })
        #expect(!file.contains { $0.hasPrefix("ORGANIZER") || $0.hasPrefix("ATTENDEE") }, "a feed invites nobody")
        #expect(file.contains("NAME:Dr. Lee") && file.contains("X-WR-CALNAME:Dr. Lee"))
        #expect(
            file.contains("REFRESH-INTERVAL;VALUE=DURATION:PT15M") && file.contains("X-PUBLISHED-TTL:PT15M"),
            "subscribers are asked to refresh every 15 minutes")
        #expect(file.filter { $0 == "BEGIN:VEVENT" }.count == 2)
        #expect(file.filter { $0 == "DTSTAMP:20271202T110000Z" }.count == 2, "DTSTAMP is updated_at, not now")
        #expect(file.contains(#"DESCRIPTION:Bring notes\; X-rays\, too\nand the letter"#))
        #expect(file.contains("STATUS:CONFIRMED") && file.contains("STATUS:CANCELLED"))
        #expect(file.filter { $0 == "TRANSP:TRANSPARENT" }.count == 1, "the cancelled event keeps no time busy")
        #expect(!file.contains("BEGIN:VTIMEZONE"))
        let empty = lines(
            calendar.feed(name: "Dr. Lee", appointments: [], summary: { $0.customerName }, description: { $0.note }))
        #expect(
            empty.suffix(10) == [
                "BEGIN:VTIMEZONE", "TZID:UTC", "BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+0000",
                "TZOFFSETTO:+0000", "TZNAME:UTC", "END:STANDARD", "END:VTIMEZONE", "END:VCALENDAR",
            ], "an empty feed still holds a component")
        let again = calendar.feed(
            name: "Dr. Lee", appointments: [first, second], summary: { $0.customerName },
            description: { $0.note })
        #expect(again == text, "the same appointments give the same bytes")
    }
}
