/// One invariant of ``BookingDomain/BookingStore`` that ``BookingConformance`` checks.
public enum ConformanceCheck: String, CaseIterable, Sendable, CustomStringConvertible {
    /// A booking writes the appointment and exactly one pending `booked` notification; reads return what was written.
    case bookingWritesAppointmentAndNotification
    /// 200 concurrent bookings of one slot: exactly one succeeds, the rest get `slotUnavailable`.
    case concurrentBookingsOfOneSlot
    /// 200 concurrent bookings of overlapping but unequal intervals: exactly one succeeds.
    case concurrentOverlappingBookings
    /// Equal intervals of different resources never conflict.
    case differentResourcesDoNotConflict
    /// Occupied intervals (slot plus buffers) conflict even when the slots do not; touching ones do not.
    case occupiedIntervalsConflict
    /// A refused booking (conflict or invalid input) writes no appointment and no notification.
    case refusedBookingWritesNothing
    /// A cancelled slot can be booked again.
    case cancelledSlotCanBeBookedAgain
    /// 200 concurrent cancels: one transition, one `cancelled` notification, every caller sees it cancelled.
    case concurrentCancels
    /// Cancelling an unknown id returns nil and writes nothing.
    case cancelOfUnknownAppointment
    /// 200 concurrent inserts with one idempotency key: one appointment, every caller gets it.
    case concurrentIdempotentBookings
    /// Listing is ordered by slot start, then id.
    case listingOrder
    /// Instants round-trip exactly at millisecond precision, before 1970 and far ahead too.
    case timestampsRoundTrip
    /// Any valid Unicode text (emoji sequences, combining marks, right-to-left, 4-byte scalars) round-trips exactly.
    case unicodeTextRoundTrips
    /// Booked intervals of a window: only overlapping, booked, same-resource intervals, sorted.
    case bookedIntervalsOfAWindow
    /// Concurrent claimers never receive the same notification while its lease holds.
    case concurrentClaimsNeverShare
    /// An expired lease can be claimed again, and the old owner can no longer finish it.
    case expiredLeaseIsTakenOver
    /// A retry keeps the error, counts the attempt, and is not due before its time.
    case retryWaitsUntilDue
    /// A failed notification is final until an admin retries it; sent is final.
    case failedAndSentAreFinal
    /// Releasing a lease does not count the attempt and makes the notification due again.
    case releaseDoesNotCountAnAttempt
    /// A dispatcher delivers the booked and the cancelled notification once each and marks them sent.
    case dispatcherDeliversEachNotificationOnce
    /// A sender that fails twice then succeeds: delivered on attempt 3, waits following the backoff.
    case dispatcherRetriesWithBackoff
    /// A permanent failure marks the notification failed after one attempt, with the error text.
    case dispatcherFailsPermanentErrorsAtOnce
    /// A dispatcher that dies mid-send: after the lease lapses another delivers, and the dead one's late finish is refused.
    case dispatcherRecoversFromACrash
    /// Four dispatchers and 1,000 bookings: every notification delivered, none twice at the same time.
    case concurrentDispatchersNeverOverlap
    /// Everything survives close and reopen (needs ``BookingConformance/Capabilities/reopen``).
    case survivesReopen

    /// The check's name.
    public var description: String { rawValue }

    /// Whether a store without some capabilities cannot run this check.
    func isApplicable(to capabilities: BookingConformance.Capabilities) -> Bool {
        switch self {
        case .survivesReopen: capabilities.contains(.reopen)
        default: true
        }
    }
}
