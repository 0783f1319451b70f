import BookingDomain
import Foundation
import InMemoryStore

/// `BookingService.availability` on an ``InMemoryStore``, in process: 5-minute slots open all day in
/// Europe/London (so the longer windows cross both DST changes), over 1, 7, 90 and 366 days with 0,
/// 10,000 and 100,000 bookings spread evenly over the year.
///
/// Prints per call the time, the window's slots (free and booked) and bookings, and the time per slot and booking
/// (the window's slots plus its bookings: a booked slot is both), which stays flat when the cost is linear in them.
struct AvailabilityBenchmark {
    /// A clock that always answers the same instant, so every call sees the same window.
    struct FixedClock: WallClock {
        let instant: Date
        func now() -> Date { instant }
    }

    func run() async throws {
        guard let zone = TimeZone(identifier: "Europe/London") else { return }
        let schedule = try Schedule(
            timeZone: zone, weeklyHours: Schedule.everyDay([try OpeningInterval(parsing: "00:00-24:00")]),
            slotLength: .minutes(5), horizon: .seconds(366 * 86_400))
        // 2027-01-01T00:00:00Z
        let now = Date(millisecondsSince1970: 1_798_761_600_000)
        let slotsInYear = 366 * 288
        print("availability, in process, InMemoryStore, Europe/London, 5-minute slots open 00:00-24:00 every day")
        for bookings in [0, 10_000, 100_000] {
            let store = InMemoryStore()
            for index in 0..<bookings {
                let start = now.addingTimeInterval(Double(index * slotsInYear / bookings) * 300)
                let slot = try TimeSlot(start: start, end: start.addingTimeInterval(300))
                _ = try await store.insert(
                    NewAppointment(
                        resource: .default, slot: slot, occupied: slot, customerName: "Bench Mark",
                        customerEmail: "bench@example.com", note: nil,
                        cancelTokenHash: String(repeating: "b", count: 64),
                        idempotencyKey: nil, requestFingerprint: "bench", now: now))
            }
            let service = BookingService(
                store: store, configuration: .init(defaultSchedule: schedule), clock: FixedClock(instant: now))
            for days in [1, 7, 90, 366] {
                let to = now.addingTimeInterval(Double(days) * 86_400)
                let free = try await service.availability(from: now, to: to).count
                let window = try TimeSlot(start: now, end: to)
                let booked = await store.occupants(resource: .default, overlapping: window, now: now).count
                let slots = schedule.slots(from: now, to: to).count
                let seconds = try await secondsPerCall { _ = try await service.availability(from: now, to: to) }
                let label =
                    "availability \(days) d, \(bookings) bookings: \(free) free of \(slots) slots, \(booked) in it"
                print(
                    label.padding(toLength: max(76, label.count + 1), withPad: " ", startingAt: 0)
                        + String(
                            format: "%10.1f us/call %7.1f ns per slot+booking", seconds * 1e6,
                            seconds * 1e9 / Double(max(1, slots + booked))))
            }
        }
    }

    /// The median over five rounds of the mean time of one call, each round about 0.1 s long.
    private func secondsPerCall(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        let once = max(1e-7, seconds(ContinuousClock.now - start))
        let calls = max(1, Int(0.1 / once))
        var samples: [Double] = []
        for _ in 0..<5 {
            let started = ContinuousClock.now
            for _ in 0..<calls { try await body() }
            samples.append(seconds(ContinuousClock.now - started) / Double(calls))
        }
        return samples.sorted()[samples.count / 2]
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
