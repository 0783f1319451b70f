import BookingDomain
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import PostgresStore

/// Availability reads racing bookings on PostgreSQL, sharing statements. No time limit: on a full run the test waits
/// its turn for a database (`PostgresTestDatabase`), which can take minutes.
@Suite("PostgreSQL store: occupants reads racing bookings")
struct OccupantsRaceTests {
    @Test("reads racing bookings on PostgreSQL: each sees every booking of its own window made before it")
    func racingBookings() async throws {
        let start = Date(millisecondsSince1970: 1_803_801_600_000)
        // 30 minutes each, over 50 hours, 30 seconds past the minute: windows that share their minutes can differ
        // in the bookings they hold.
        let slots = try (0..<100).map { index in
            try TimeSlot(
                start: start.addingTimeInterval(30 + Double(index) * 1800),
                end: start.addingTimeInterval(30 + Double(index + 1) * 1800))
        }
        // Windows a few milliseconds apart, as the reads of people asking at once, all of one parity in the same
        // minutes: the even readers read about a day, ending just before the 49th booking's start (readers 0 to 8)
        // or just after it (10 to 14); the odd ones about three days (all of them).
        let windows = try (0..<16).map { reader in
            let days = Double(reader.isMultiple(of: 2) ? 1 : 3)
            return try TimeSlot(
                start: start.addingTimeInterval(Double(reader) / 1000),
                end: start.addingTimeInterval(days * 86_400 + 30 + Double(reader - 8) / 1000))
        }
        try await withStores(1) { stores in
            let store = stores[0]
            let booked = OccupantsCoalescerTests.Count()
            let reads = OccupantsCoalescerTests.Count()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for (index, slot) in slots.enumerated() {
                        _ = try await store.insert(
                            NewAppointment(
                                resource: .default, slot: slot, occupied: slot, customerName: "Ada",
                                customerEmail: "ada\(index)@example.com", note: nil,
                                cancelTokenHash: String(repeating: "c", count: 64), idempotencyKey: nil,
                                requestFingerprint: "f", now: start))
                        booked.value.add(1, ordering: .sequentiallyConsistent)
                    }
                }
                for window in windows {
                    group.addTask {
                        var readsAfterTheLastBooking = 0
                        while readsAfterTheLastBooking < 5 {
                            let before = booked.value.load(ordering: .sequentiallyConsistent)
                            let read = try await store.occupants(resource: .default, overlapping: window, now: start)
                            reads.value.add(1, ordering: .relaxed)
                            let bookedBefore = slots.prefix(before).filter(window.overlaps)
                            #expect(Set(bookedBefore).isSubset(of: read.map(\.slot)))
                            #expect(read.allSatisfy { window.overlaps($0.occupied) })
                            #expect(read.map(\.slot.start) == read.map(\.slot.start).sorted())
                            if before == slots.count { readsAfterTheLastBooking += 1 }
                        }
                    }
                }
                try await group.waitForAll()
            }
            for window in windows {
                let read = try await store.occupants(resource: .default, overlapping: window, now: start)
                #expect(read.map(\.slot) == slots.filter(window.overlaps))
            }
            let statements = store.occupantsCoalescer.statements
            #expect(statements > 0 && statements < reads.value.load(ordering: .relaxed))
        }
    }
}
