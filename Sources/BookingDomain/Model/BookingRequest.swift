public import Foundation

/// What a customer asks for when booking; ``BookingService`` validates every field.
public struct BookingRequest: Hashable, Sendable {
    /// Start of the wanted slot; must be exactly a slot the schedule offers.
    public var slotStart: Date
    /// End of the wanted slot.
    public var slotEnd: Date
    /// The customer's name, 1-200 characters after trimming.
    public var name: String
    /// The customer's email.
    public var email: String
    /// An optional note, at most 500 characters.
    public var note: String?
    /// Who or what is booked; ``ResourceID/default`` when not given.
    public var resource: ResourceID
    /// A client key that makes retries safe: the same key and request return the original appointment.
    public var idempotencyKey: String?
    /// The token of the caller's hold on this slot (from ``BookingService/hold(_:)``): the booking takes the
    /// held seat and ends the hold. Not part of what an idempotency key compares.
    public var holdToken: String?

    /// Creates a request.
    public init(
        slotStart: Date, slotEnd: Date, name: String, email: String, note: String? = nil,
        resource: ResourceID = .default, idempotencyKey: String? = nil, holdToken: String? = nil
    ) {
        self.slotStart = slotStart
        self.slotEnd = slotEnd
        self.name = name
        self.email = email
        self.note = note
        self.resource = resource
        self.idempotencyKey = idempotencyKey
        self.holdToken = holdToken
    }
}
