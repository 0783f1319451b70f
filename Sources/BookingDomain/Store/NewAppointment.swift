public import Foundation

/// What ``BookingService`` asks a store to insert: a validated appointment and its secrets.
public struct NewAppointment: Hashable, Sendable {
    /// Who or what is booked.
    public var resource: ResourceID
    /// The booked slot.
    public var slot: TimeSlot
    /// The slot widened by the buffers; must contain `slot`.
    public var occupied: TimeSlot
    /// The customer's name.
    public var customerName: String
    /// The customer's email.
    public var customerEmail: String
    /// An optional note.
    public var note: String?
    /// Hex SHA-256 of the cancel token (64 lowercase hex digits), a token new for every booking request:
    /// a store may recognise its own booking by it (with the slot and `now`) when a cancel or timeout hides
    /// whether its commit happened.
    public var cancelTokenHash: String
    /// The client's idempotency key as the service stores it (a SHA-256 of it), unique among all appointments.
    public var idempotencyKey: String?
    /// Hex SHA-256 of the canonical request, to tell a replay from a reused key.
    public var requestFingerprint: String
    /// The time of the booking: `created_at`, `updated_at` and the notification's timestamps.
    public var now: Date
    /// The cancel token sealed under the idempotency key; stored as given and returned in the record.
    public var sealedCancelToken: String?
    /// The `reminder` notifications to write with the booking (sequence 0), each due at its
    /// ``ScheduledReminder/dueAt``; empty for none.
    public var reminders: [ScheduledReminder]
    /// The seats and limits the booking must respect.
    public var rules: BookingRules
    /// Hex SHA-256 of the token of the hold the booking uses: it must be live (``now`` before its expiry) and
    /// of this very resource and slot, and it is deleted with the insert; `nil` for none.
    public var holdTokenHash: String?

    /// Creates the insert request.
    public init(
        resource: ResourceID, slot: TimeSlot, occupied: TimeSlot, customerName: String, customerEmail: String,
        note: String?, cancelTokenHash: String, idempotencyKey: String?, requestFingerprint: String, now: Date,
        sealedCancelToken: String? = nil, reminders: [ScheduledReminder] = [], rules: BookingRules = .single,
        holdTokenHash: String? = nil
    ) {
        self.resource = resource
        self.slot = slot
        self.occupied = occupied
        self.customerName = customerName
        self.customerEmail = customerEmail
        self.note = note
        self.cancelTokenHash = cancelTokenHash
        self.idempotencyKey = idempotencyKey
        self.requestFingerprint = requestFingerprint
        self.now = now
        self.sealedCancelToken = sealedCancelToken
        self.reminders = reminders
        self.rules = rules
        self.holdTokenHash = holdTokenHash
    }

    /// Checks what every store must refuse before writing: an empty or inverted interval,
    /// an occupied interval that does not contain the slot, empty required text, or reminders that are
    /// not each due once, after `now`, at the slot's start minus a lead of whole minutes, a malformed hold
    /// token hash, or rules without a seat.
    public func validate() throws(BookingError) {
        var problems = TimeSlot.boundsProblems(slot: slot, occupied: occupied, now: now)
        if slot.end <= slot.start { problems["slotEnd"] = problems["slotEnd"] ?? "must be after slotStart" }
        if !occupied.contains(slot) { problems["occupied"] = problems["occupied"] ?? "must contain the slot" }
        if customerName.isEmpty { problems["name"] = "must not be empty" }
        if customerEmail.isEmpty { problems["email"] = "must not be empty" }
        if cancelTokenHash.utf8.count != 64 { problems["cancelTokenHash"] = "must be 64 hex digits" }
        if let key = idempotencyKey, key.isEmpty { problems["idempotencyKey"] = "must not be empty" }
        if let hash = holdTokenHash, hash.utf8.count != 64 { problems["holdTokenHash"] = "must be 64 hex digits" }
        if let problem = rules.problem { problems["rules"] = problem }
        if problems["slotStart"] == nil, problems["now"] == nil,
            let problem = ScheduledReminder.problem(in: reminders, start: slot.start, now: now)
        {
            problems["reminders"] = problem
        }
        if !problems.isEmpty { throw .invalidInput(problems) }
    }
}
