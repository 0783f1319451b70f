import Metrics

/// The API's counters, made once with the API: made before `MetricsSystem.bootstrap`, they stay no-ops.
struct APICounters: Sendable {
    /// Appointments created (`booking_bookings_total`); replays are not counted.
    let bookings = Counter(label: "booking_bookings_total")
    /// Bookings and reschedules refused because the slot was taken (`booking_conflicts_total`).
    let conflicts = Counter(label: "booking_conflicts_total")
    /// Booked appointments cancelled (`booking_cancellations_total`).
    let cancellations = Counter(label: "booking_cancellations_total")
    /// Holds placed (`booking_holds_total`).
    let holds = Counter(label: "booking_holds_total")
}
