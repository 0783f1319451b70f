public import Foundation

/// A booked or cancelled appointment, as clients see it.
public struct Appointment: Hashable, Sendable, Codable {
    /// Whether the appointment still holds its slot.
    public enum Status: String, Hashable, Sendable, Codable, CaseIterable {
        /// Holds its slot.
        case booked
        /// Released its slot; the slot can be booked again.
        case cancelled
    }

    /// The store-assigned id, unique and increasing.
    public var id: Int64
    /// Who or what is booked.
    public var resource: ResourceID
    /// The booked slot.
    public var slot: TimeSlot
    /// The slot widened by the schedule's buffers; booked occupied intervals of one resource never overlap.
    public var occupied: TimeSlot
    /// The customer's name, trimmed.
    public var customerName: String
    /// The customer's email, trimmed.
    public var customerEmail: String
    /// An optional note from the customer.
    public var note: String?
    /// Booked or cancelled.
    public var status: Status
    /// When it was booked.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date
    /// When it was cancelled, if it was.
    public var cancelledAt: Date?
    /// The revision of the appointment's time, as calendars count it (iCalendar `SEQUENCE`): 0 when
    /// booked, one more after each move and after the cancel.
    public var sequence: Int

    /// Creates an appointment value (stores use this to rebuild rows).
    public init(
        id: Int64, resource: ResourceID, slot: TimeSlot, occupied: TimeSlot, customerName: String,
        customerEmail: String, note: String?, status: Status, createdAt: Date, updatedAt: Date,
        cancelledAt: Date?, sequence: Int = 0
    ) {
        self.id = id
        self.resource = resource
        self.slot = slot
        self.occupied = occupied
        self.customerName = customerName
        self.customerEmail = customerEmail
        self.note = note
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.cancelledAt = cancelledAt
        self.sequence = sequence
    }
}
