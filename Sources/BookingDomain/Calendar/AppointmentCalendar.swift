public import Foundation

/// Appointments as iCalendar files (RFC 5545): one appointment as a scheduling message (RFC 5546), or a
/// resource's appointments as a feed that calendar applications subscribe to.
///
/// Every appointment is one `VEVENT` whose `UID` is `appointment-<id>-<created>@<domain>` and whose `SEQUENCE` is
/// the appointment's ``Appointment/sequence``, so a calendar that imported it replaces the event when it
/// moves or is cancelled instead of adding another. Instants are written in UTC (`20271224T090000Z`).
///
/// ```swift
/// let calendar = AppointmentCalendar(domain: "booking.example.com")
/// let file = calendar.message(for: appointment, summary: "Appointment: Dr. Lee", now: Date())
/// // METHOD:REQUEST while booked, METHOD:CANCEL (and STATUS:CANCELLED) once cancelled.
/// ```
///
/// A message names the `ORGANIZER` (``organizer``) and the customer as the one `ATTENDEE`, as RFC 5546
/// asks of `REQUEST` and `CANCEL`; the attendee has already accepted (`PARTSTAT=ACCEPTED`, `RSVP=FALSE`),
/// so calendar applications add, update or remove the event without asking for a reply. A feed names neither.
public struct AppointmentCalendar: Sendable {
    /// The right-hand side of every `UID`: a domain the deployment owns keeps its UIDs apart from others'.
    public var domain: String
    /// The `PRODID` of every file.
    public var productID: String
    /// The organizer's address in messages (`ORGANIZER:mailto:...`).
    public var organizer: String

    /// Creates a writer of calendar files whose UIDs end in `@domain`; the organizer defaults to
    /// `noreply@<domain>`.
    public init(
        domain: String, organizer: String? = nil, productID: String = "-//swift-booking//booking-server 1.0//EN"
    ) {
        self.domain = domain
        self.organizer = organizer ?? "noreply@\(domain)"
        self.productID = productID
    }

    /// `appointment-<id>-<created>@<domain>`, where `<created>` is ``Appointment/createdAt`` in milliseconds since
    /// 1970: the same for the appointment's whole life, moves and cancel included, and never that of another
    /// appointment, even from a deployment on the same domain or a database started again whose ids repeat.
    public func uid(of appointment: Appointment) -> String {
        "appointment-\(appointment.id)-\(appointment.createdAt.millisecondsSince1970)@\(domain)"
    }

    /// The RFC 5546 method of the appointment's message: `REQUEST` while booked, `CANCEL` once cancelled.
    public static func method(for appointment: Appointment) -> String {
        appointment.status == .booked ? "REQUEST" : "CANCEL"
    }

    /// One appointment as an RFC 5546 message: `METHOD:REQUEST` and `STATUS:CONFIRMED` while booked,
    /// `METHOD:CANCEL`, `STATUS:CANCELLED` and `TRANSP:TRANSPARENT` once cancelled; `DTSTAMP` is `now`, when the
    /// message was made.
    ///
    /// - Parameters:
    ///   - appointment: The appointment to write.
    ///   - summary: The event's title, e.g. the resource's name.
    ///   - now: When the message is made.
    public func message(for appointment: Appointment, summary: String, now: Date) -> String {
        var writer = header(method: Self.method(for: appointment), name: nil)
        event(appointment, summary: summary, description: nil, stamp: now, participants: true, into: &writer)
        writer.end("VCALENDAR")
        return writer.text
    }

    /// A feed of `appointments` without `METHOD`, cancelled ones with `STATUS:CANCELLED` and `TRANSP:TRANSPARENT`;
    /// with none, it holds a `VTIMEZONE` for UTC, since a calendar must hold a component.
    ///
    /// It asks subscribers to refresh every ``feedRefreshInterval`` (`REFRESH-INTERVAL`, RFC 7986, and
    /// `X-PUBLISHED-TTL`, which Outlook reads instead), where each would otherwise choose, up to a day.
    ///
    /// Without `METHOD`, `DTSTAMP` is when the event last changed (RFC 5545 section 3.8.7.2): each
    /// appointment's ``Appointment/updatedAt``. So the same appointments give the same bytes, and a hash of
    /// them is a strong validator (an HTTP `ETag`).
    ///
    /// - Parameters:
    ///   - name: The calendar's name (`NAME`, and `X-WR-CALNAME` for applications that read only that).
    ///   - appointments: The events, in the order given.
    ///   - summary: Each event's title.
    ///   - description: Each event's optional details.
    public func feed(
        name: String, appointments: [Appointment], summary: (Appointment) -> String,
        description: (Appointment) -> String?
    ) -> String {
        var writer = header(method: nil, name: name)
        writer.property("REFRESH-INTERVAL;VALUE=DURATION", value: Self.feedRefreshInterval)
        writer.property("X-PUBLISHED-TTL", value: Self.feedRefreshInterval)
        for appointment in appointments {
            event(
                appointment, summary: summary(appointment), description: description(appointment),
                stamp: appointment.updatedAt, participants: false, into: &writer)
        }
        // A calendar holds at least one component (RFC 5545 section 3.6): an empty feed holds the zone its
        // times are in.
        if appointments.isEmpty { Self.utcZone(into: &writer) }
        writer.end("VCALENDAR")
        return writer.text
    }

    /// How often a feed asks its subscribers to refresh it, as an RFC 5545 duration: 15 minutes, so a booking
    /// reaches the staff's calendars soon; a feed's `ETag` makes a refresh that finds nothing new cheap.
    public static let feedRefreshInterval = "PT15M"

    /// A `VTIMEZONE` for UTC, the zone of every time these files write.
    private static func utcZone(into writer: inout ICalendarWriter) {
        writer.begin("VTIMEZONE")
        writer.property("TZID", value: "UTC")
        writer.begin("STANDARD")
        writer.property("DTSTART", value: "19700101T000000")
        writer.property("TZOFFSETFROM", value: "+0000")
        writer.property("TZOFFSETTO", value: "+0000")
        writer.property("TZNAME", value: "UTC")
        writer.end("STANDARD")
        writer.end("VTIMEZONE")
    }

    private func header(method: String?, name: String?) -> ICalendarWriter {
        var writer = ICalendarWriter()
        writer.begin("VCALENDAR")
        writer.property("VERSION", value: "2.0")
        writer.property("PRODID", text: productID)
        writer.property("CALSCALE", value: "GREGORIAN")
        if let method { writer.property("METHOD", value: method) }
        if let name {
            writer.property("NAME", text: name)
            writer.property("X-WR-CALNAME", text: name)
        }
        return writer
    }

    private func event(
        _ appointment: Appointment, summary: String, description: String?, stamp: Date, participants: Bool,
        into writer: inout ICalendarWriter
    ) {
        writer.begin("VEVENT")
        writer.property("UID", text: uid(of: appointment))
        writer.property("DTSTAMP", dateTime: stamp)
        writer.property("SEQUENCE", value: String(appointment.sequence))
        writer.property("DTSTART", dateTime: appointment.slot.start)
        writer.property("DTEND", dateTime: appointment.slot.end)
        writer.property("SUMMARY", text: summary)
        if let description { writer.property("DESCRIPTION", text: description) }
        writer.property("STATUS", value: appointment.status == .booked ? "CONFIRMED" : "CANCELLED")
        // A cancelled event keeps no time busy in a free/busy search.
        if appointment.status == .cancelled { writer.property("TRANSP", value: "TRANSPARENT") }
        if participants {
            writer.property("ORGANIZER", value: Self.mailto(organizer))
            writer.property(
                "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE",
                value: Self.mailto(appointment.customerEmail))
        }
        writer.property("CREATED", dateTime: appointment.createdAt)
        writer.property("LAST-MODIFIED", dateTime: appointment.updatedAt)
        writer.end("VEVENT")
    }

    /// A `mailto:` URI (a `CAL-ADDRESS` value) for an email address, with what a URI cannot hold percent-encoded.
    static func mailto(_ address: String) -> String {
        "mailto:" + (address.addingPercentEncoding(withAllowedCharacters: mailtoAllowed) ?? address)
    }

    /// ASCII letters and digits and the address characters RFC 6068 leaves unencoded.
    private static let mailtoAllowed: CharacterSet = {
        var allowed = CharacterSet.alphanumerics.intersection(
            CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "@.-_+~!$'*")
        return allowed
    }()
}
