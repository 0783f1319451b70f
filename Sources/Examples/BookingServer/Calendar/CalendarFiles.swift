import BookingDomain
import Foundation

/// The host's calendar files: ``BookingDomain/AppointmentCalendar`` with the configured resources' names.
///
/// The API serves them and, with `--webhook-calendar`, the webhook sender attaches them, so a customer's
/// file and a webhook's are the same text.
struct CalendarFiles: Sendable {
    private let calendar: AppointmentCalendar
    private let names: [ResourceID: String]

    /// Files whose UIDs end in `@domain`, naming `resources` as the host shows them.
    init(domain: String, resources: [ConfiguredResource]) {
        calendar = AppointmentCalendar(domain: domain)
        names = Dictionary(resources.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// The resource's display name; its id when the host does not serve it (any more).
    private func name(of resource: ResourceID) -> String { names[resource] ?? resource.rawValue }

    /// `text` without explicit directional formatting (embeddings, overrides and isolates, U+202A-U+202E and
    /// U+2066-U+2069), so that one left open (a customer's name ending in U+202E) cannot reverse the text after it.
    static func withoutDirectionalFormatting(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(
            contentsOf: text.unicodeScalars.filter {
                !(0x202A...0x202E).contains($0.value) && !(0x2066...0x2069).contains($0.value)
            })
        return String(scalars)
    }

    /// One appointment as its customer sees it: `Appointment: Dr. Lee`, `METHOD:REQUEST` or `CANCEL`.
    func message(for appointment: Appointment, now: Date) -> String {
        calendar.message(for: appointment, summary: "Appointment: \(name(of: appointment.resource))", now: now)
    }

    /// A resource's feed for its staff: each event titled with the customer's name and the resource's, the email
    /// and note in its description (both without directional formatting).
    func feed(of resource: ResourceID, appointments: [Appointment]) -> String {
        let name = name(of: resource)
        return calendar.feed(
            name: name, appointments: appointments,
            summary: { "\(Self.withoutDirectionalFormatting($0.customerName)) (\(name))" },
            description: { appointment in
                Self.withoutDirectionalFormatting(
                    ([appointment.customerEmail] + (appointment.note.map { [$0] } ?? [])).joined(separator: "\n"))
            })
    }
}
