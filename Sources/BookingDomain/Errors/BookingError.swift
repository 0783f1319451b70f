public import Foundation

/// The one error type of swift-booking.
///
/// It wraps a private code enum, so new codes can be added without breaking callers.
/// Compare ``code`` against the static members of ``BookingError/Code``:
///
/// ```swift
/// do { try await service.book(request) }
/// catch let error as BookingError where error.code == .slotUnavailable { /* show 409 */ }
/// ```
///
/// Its ``description`` never contains personal data or SQL.
public struct BookingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable machine-readable code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidInput = "INVALID_INPUT"
            case slotNotOffered = "SLOT_NOT_OFFERED"
            case slotUnavailable = "SLOT_UNAVAILABLE"
            case notFound = "NOT_FOUND"
            case appointmentCancelled = "APPOINTMENT_CANCELLED"
            case forbidden = "FORBIDDEN"
            case idempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
            case storeUnavailable = "STORE_UNAVAILABLE"
            case alreadyBooked = "ALREADY_BOOKED"
            case bookingLimitReached = "BOOKING_LIMIT_REACHED"
            case slotHeld = "SLOT_HELD"
            case holdExpired = "HOLD_EXPIRED"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A field is missing, malformed or out of range; see ``BookingError/fieldErrors``.
        public static let invalidInput = Code(.invalidInput)
        /// The request is well formed, but the schedule does not offer that slot now.
        public static let slotNotOffered = Code(.slotNotOffered)
        /// The slot (or an overlapping one) is already booked.
        public static let slotUnavailable = Code(.slotUnavailable)
        /// No appointment or notification has that id.
        public static let notFound = Code(.notFound)
        /// The appointment is cancelled, so it cannot be moved.
        public static let appointmentCancelled = Code(.appointmentCancelled)
        /// The credential (cancel token) does not match.
        public static let forbidden = Code(.forbidden)
        /// The idempotency key was used before with a different request.
        public static let idempotencyKeyReused = Code(.idempotencyKeyReused)
        /// The store could not be reached or did not answer in time.
        public static let storeUnavailable = Code(.storeUnavailable)

        /// The customer (by email, ignoring case) already holds a seat of that slot.
        public static let alreadyBooked = Code(.alreadyBooked)
        /// The resource's limit of bookings per local day or ISO week is reached for that slot's day or week.
        public static let bookingLimitReached = Code(.bookingLimitReached)
        /// Someone else holds the slot (or its last seat) for a few minutes; see ``BookingError/availableAt``.
        public static let slotHeld = Code(.slotHeld)
        /// The hold token names no live hold: it expired, was released or used, or never existed.
        public static let holdExpired = Code(.holdExpired)

        /// The code in upper snake case, e.g. `SLOT_UNAVAILABLE`.
        public var description: String { base.rawValue }
    }

    /// The machine-readable code.
    public let code: Code
    /// A human sentence that is safe to show to a client.
    public let message: String
    /// For ``Code/invalidInput``: a message per offending field, keyed by field name.
    public let fieldErrors: [String: String]
    /// For ``Code/slotHeld``: when enough of the holds in the way expire for the slot to be free again
    /// (unless they are used for bookings first); a host answers `Retry-After` with it.
    public let availableAt: Date?

    /// Creates an error; prefer the static factories.
    public init(code: Code, message: String, fieldErrors: [String: String] = [:], availableAt: Date? = nil) {
        self.code = code
        self.message = message
        self.fieldErrors = fieldErrors
        self.availableAt = availableAt
    }

    /// One or more fields are invalid.
    public static func invalidInput(_ fieldErrors: [String: String]) -> BookingError {
        let fields = fieldErrors.keys.sorted().joined(separator: ", ")
        return BookingError(code: .invalidInput, message: "Invalid input: \(fields).", fieldErrors: fieldErrors)
    }

    /// One field is invalid.
    public static func invalidInput(field: String, _ problem: String) -> BookingError {
        invalidInput([field: problem])
    }

    /// The slot is not one the schedule offers now.
    public static func slotNotOffered(_ reason: String) -> BookingError {
        BookingError(code: .slotNotOffered, message: "That slot is not offered: \(reason).")
    }

    /// The slot overlaps a booked appointment.
    public static let slotUnavailable = BookingError(
        code: .slotUnavailable, message: "That slot is already booked.")

    /// The customer already holds a seat of that slot.
    public static let alreadyBooked = BookingError(
        code: .alreadyBooked, message: "This email already has a booking in that slot.")

    /// The resource takes no more bookings in that slot's local day or ISO week (`period` is `day` or `week`).
    public static func bookingLimitReached(_ period: String) -> BookingError {
        BookingError(code: .bookingLimitReached, message: "No more bookings can be taken that \(period).")
    }

    /// The slot is held by someone else until `availableAt` at the latest.
    public static func slotHeld(until availableAt: Date) -> BookingError {
        BookingError(
            code: .slotHeld, message: "That slot is held by someone else for a few minutes.", availableAt: availableAt)
    }

    /// The hold token names no live hold.
    public static let holdExpired = BookingError(
        code: .holdExpired, message: "The hold has expired or was released; pick the slot again.")

    /// Nothing with that id exists.
    public static func notFound(_ what: String) -> BookingError {
        BookingError(code: .notFound, message: "No \(what) with that id.")
    }

    /// The appointment is cancelled: it holds no slot and cannot be moved.
    public static let appointmentCancelled = BookingError(
        code: .appointmentCancelled, message: "The appointment is cancelled; it cannot be moved.")

    /// The credential does not grant the operation.
    public static let forbidden = BookingError(
        code: .forbidden, message: "The credential does not allow this operation.")

    /// The idempotency key was already used for a different request.
    public static let idempotencyKeyReused = BookingError(
        code: .idempotencyKeyReused,
        message: "The idempotency key was already used with a different request.")

    /// The store failed; `reason` must not contain personal data or SQL.
    public static func storeUnavailable(_ reason: String = "the store did not answer") -> BookingError {
        BookingError(code: .storeUnavailable, message: "The booking store is unavailable: \(reason).")
    }

    /// `CODE: message`, with the names of offending fields but never their values.
    public var description: String { "\(code): \(message)" }
}
