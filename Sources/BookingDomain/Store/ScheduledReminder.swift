public import Foundation

/// One `reminder` notification a store writes with a booking or a move: its lead time before the
/// appointment's start and the instant it is due.
///
/// ``BookingService`` computes them from the schedule's ``Schedule/reminderLeads`` and its clock, leaving
/// out every reminder whose moment has already passed, and passes them in ``NewAppointment/reminders``
/// and ``AppointmentMove/reminders``; a store never reads a clock.
public struct ScheduledReminder: Hashable, Sendable {
    /// How long before the appointment's start the reminder is sent: whole minutes, at least one.
    public var lead: Duration
    /// When it is due: the slot's start minus ``lead``, after the time of the write.
    public var dueAt: Date

    /// Creates a reminder due at `dueAt`, `lead` before the start.
    public init(lead: Duration, dueAt: Date) {
        self.lead = lead
        self.dueAt = dueAt
    }

    /// The reminders of a slot starting at `start` for each of `leads`, as written at `now`: due at
    /// `start - lead`, leaving out those due at or before `now`; the longest lead first. The millisecond arithmetic
    /// saturates, so a lead or an instant at the ends of their types never traps.
    public static func due(leads: [Duration], before start: Date, now: Date) -> [ScheduledReminder] {
        leads.sorted(by: >).compactMap { lead in
            let dueAt = Date(millisecondsSince1970: dueMilliseconds(start: start, lead: lead))
            return dueAt > now ? ScheduledReminder(lead: lead, dueAt: dueAt) : nil
        }
    }

    /// `start - lead` in whole milliseconds, saturating.
    private static func dueMilliseconds(start: Date, lead: Duration) -> Int64 {
        let (due, overflow) = start.millisecondsSince1970.subtractingReportingOverflow(lead.wholeMilliseconds)
        return overflow ? (lead < .zero ? .max : .min) : due
    }

    /// What is wrong with `reminders` for a slot starting at `start` written at `now`, if anything: a
    /// lead that is not whole minutes from 1 minute to 366 days, two with one lead, a due time that is
    /// not `start - lead` or not after `now`.
    static func problem(in reminders: [ScheduledReminder], start: Date, now: Date) -> String? {
        var leads: Set<Duration> = []
        for reminder in reminders {
            let (seconds, attoseconds) = reminder.lead.saturatingComponents
            guard attoseconds == 0, seconds % 60 == 0, (60...(366 * 86_400)).contains(seconds) else {
                return "each lead must be whole minutes from 1 minute to 366 days"
            }
            guard leads.insert(reminder.lead).inserted else { return "each lead may appear once" }
            guard TimeSlot.instantProblem(reminder.dueAt) == nil else {
                return "each must be due in the years 0001 to 9999"
            }
            let expected = dueMilliseconds(start: start, lead: reminder.lead)
            guard reminder.dueAt.millisecondsSince1970 == expected else {
                return "each must be due at the slot's start minus its lead"
            }
            guard reminder.dueAt.millisecondsSince1970 > now.millisecondsSince1970 else {
                return "each must be due after the time of the write"
            }
        }
        return nil
    }
}
