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
    /// `start - lead`, leaving out those due at or before `now`; the longest lead first.
    public static func due(leads: [Duration], before start: Date, now: Date) -> [ScheduledReminder] {
        leads.sorted(by: >).compactMap { lead in
            let dueAt = Date(millisecondsSince1970: start.millisecondsSince1970 - lead.wholeMilliseconds)
            return dueAt > now ? ScheduledReminder(lead: lead, dueAt: dueAt) : nil
        }
    }

    /// What is wrong with `reminders` for a slot starting at `start` written at `now`, if anything: a
    /// lead that is not whole minutes from 1 minute to 366 days, two with one lead, a due time that is
    /// not `start - lead` or not after `now`.
    static func problem(in reminders: [ScheduledReminder], start: Date, now: Date) -> String? {
        var leads: Set<Duration> = []
        for reminder in reminders {
            let (seconds, attoseconds) = reminder.lead.components
            guard attoseconds == 0, seconds % 60 == 0, (60...(366 * 86_400)).contains(seconds) else {
                return "each lead must be whole minutes from 1 minute to 366 days"
            }
            guard leads.insert(reminder.lead).inserted else { return "each lead may appear once" }
            guard TimeSlot.instantProblem(reminder.dueAt) == nil else {
                return "each must be due in the years 0001 to 9999"
            }
            let expected = start.millisecondsSince1970 - reminder.lead.wholeMilliseconds
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

extension Duration {
    /// The duration in whole milliseconds, rounded down.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
