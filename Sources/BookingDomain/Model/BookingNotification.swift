public import Foundation

/// One row of the transactional outbox: a message about an appointment waiting to be delivered.
///
/// Named `BookingNotification` so it never clashes with `Foundation.Notification`.
public struct BookingNotification: Hashable, Sendable, Codable {
    /// What happened to the appointment.
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        /// The appointment was booked.
        case booked
        /// The appointment was cancelled.
        case cancelled
        /// The appointment was moved to another slot; see ``BookingNotification/previousSlot``.
        case rescheduled
        /// The appointment starts in ``BookingNotification/reminderLead``: due that long before its start.
        ///
        /// Written with the booking (and again with each move) for each of the schedule's
        /// ``Schedule/reminderLeads``; never sent for an appointment that is not booked, or that moved since.
        case reminder
    }

    /// Where the notification is in its life.
    public enum Status: String, Hashable, Sendable, Codable, CaseIterable {
        /// Waiting for (another) delivery attempt.
        case pending
        /// Delivered.
        case sent
        /// Given up on: a permanent error, or out of attempts; see ``BookingNotification/lastError``.
        case failed
        /// Not to be sent any more, and never claimed: a `reminder` whose appointment was cancelled or moved.
        case obsolete
    }

    /// The store-assigned id; senders pass it on as an idempotency key.
    public var id: Int64
    /// The appointment it is about.
    public var appointmentID: Int64
    /// Booked, cancelled, rescheduled or a reminder.
    public var kind: Kind
    /// The appointment's ``Appointment/sequence`` this notification belongs to: the sequence the
    /// appointment had once the event was written (0 for `booked`, the move's for `rescheduled`, the
    /// cancel's for `cancelled`, and for a `reminder` the sequence of the slot it reminds of). A store
    /// holds exactly one notification per (appointment, kind, sequence, ``reminderLead``).
    public var sequence: Int
    /// For `reminder`: how long before the appointment's start it is due; `nil` for other kinds.
    public var reminderLead: Duration?
    /// For `rescheduled`: the slot the appointment held before the move; `nil` for other kinds.
    public var previousSlot: TimeSlot?
    /// Pending, sent, failed or obsolete.
    public var status: Status
    /// How many delivery attempts were claimed so far.
    public var attempts: Int
    /// The earliest time the next attempt may be claimed.
    public var nextAttemptAt: Date
    /// The claim holding the notification, if any.
    public var leaseOwner: String?
    /// When the claim lapses and another worker may take it.
    public var leaseExpiresAt: Date?
    /// The error of the latest failed attempt.
    public var lastError: String?
    /// When it was enqueued (in the booking's, cancel's or move's transaction).
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date
    /// When it was delivered.
    public var sentAt: Date?

    /// Creates a notification value (stores use this to rebuild rows).
    public init(
        id: Int64, appointmentID: Int64, kind: Kind, status: Status, attempts: Int, nextAttemptAt: Date,
        leaseOwner: String?, leaseExpiresAt: Date?, lastError: String?, createdAt: Date, updatedAt: Date,
        sentAt: Date?, sequence: Int = 0, previousSlot: TimeSlot? = nil, reminderLead: Duration? = nil
    ) {
        self.id = id
        self.appointmentID = appointmentID
        self.kind = kind
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.sentAt = sentAt
        self.sequence = sequence
        self.previousSlot = previousSlot
        self.reminderLead = reminderLead
    }
}
