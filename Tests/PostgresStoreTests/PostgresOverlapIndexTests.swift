import BookingDomain
import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStore

/// The exclusion constraint's GiST index (schema 12: a hash of the resource, the interval, the resource, the slot's
/// start) read by the claim's probes and the occupants read, among many resources booked at the same times.
@Suite("PostgreSQL store: the no-overlap index")
struct PostgresOverlapIndexTests {
    let now = Date(millisecondsSince1970: 1_803_801_600_000)  // 2027-02-28T08:00Z

    /// 200 other resources, each booked in the same 100 half-hour slots from 2027-03-01T00:00Z, and `default`
    /// booked in one of them: 20,001 rows, the index's entries of every resource overlapping each slot.
    static let crowd = """
        INSERT INTO appointments (resource, slot_start, slot_end, occupied_start, occupied_end, customer_name,
            customer_email, status, cancel_token_hash, request_fingerprint, created_at, updated_at)
        SELECT 'room-' || room, start, start + interval '30 minutes', start, start + interval '30 minutes', 'Guest',
            'guest@example.com', 'booked', 'h', 'f', now(), now()
        FROM generate_series(1, 200) AS room,
            generate_series(timestamptz '2027-03-01T00:00Z', timestamptz '2027-03-01T00:00Z' + interval '30 minutes' * 99,
                interval '30 minutes') AS start
        UNION ALL
        SELECT 'default', timestamptz '2027-03-01T10:00Z', timestamptz '2027-03-01T10:30Z', timestamptz '2027-03-01T10:00Z',
            timestamptz '2027-03-01T10:30Z', 'Ada', 'ada@example.com', 'booked', 'h', 'f', now(), now()
        """

    @Test(
        "among 200 resources booked at the same times, a second seat, a refused overlap, a booking under day and week limits and an occupants read each read only the resource's own entries"
    )
    func probesKeepToTheirResource() async throws {
        try await withStoreAndAdmin(poolSize: 1) { store, admin in
            let logger = PostgresTestDatabase.logger
            // No autovacuum reading the table while the reads are counted.
            try await admin.client.query(
                "ALTER TABLE appointments SET (autovacuum_enabled = off)", logger: logger)
            try await admin.client.query(PostgresQuery(unsafeSQL: Self.crowd), logger: logger)
            try await admin.client.query("VACUUM ANALYZE appointments", logger: logger)
            let ten = Date(millisecondsSince1970: 1_803_895_200_000)  // 2027-03-01T10:00Z
            let taken = try TimeSlot(start: ten, end: ten.addingTimeInterval(1800))
            func seat(_ slot: TimeSlot, _ email: String) -> NewAppointment {
                NewAppointment(
                    resource: .default, slot: slot, occupied: slot, customerName: "Bo", customerEmail: email, note: nil,
                    cancelTokenHash: String(repeating: "b", count: 64), idempotencyKey: nil, requestFingerprint: "f",
                    now: now, rules: BookingRules(capacity: 2))
            }
            let blocks = TableBlocks(store: store, admin: admin)
            // The occupants read planned first, so its count below is the read's own (the bookings' statements are
            // planned inside their counts, a few blocks of metadata).
            _ = try await store.occupants(resource: .default, overlapping: taken, now: now)
            // The second seat of the taken slot: its first try finds the seat taken, and the claim counts the slot's
            // occupants through the index.
            let second = try await blocks.read {
                let booked = try await store.insert(seat(taken, "second@example.com"))
                #expect(booked == .created(booked.record))
            }
            // A slot overlapping it with another start: refused by the claim's probe.
            let overlapping = try TimeSlot(start: ten.addingTimeInterval(900), end: ten.addingTimeInterval(2700))
            let refused = try await blocks.read {
                let error = await #expect(throws: BookingError.self) {
                    try await store.insert(seat(overlapping, "third@example.com"))
                }
                #expect(error?.code == .slotUnavailable)
            }
            // A slot of its own under a day's and a week's limit: the claim counts the resource's bookings of the
            // day and of the week (the 200 other resources hold 9,600 and 20,000 of them).
            let noon = try TimeSlot(start: ten.addingTimeInterval(7200), end: ten.addingTimeInterval(9000))
            let day = try TimeSlot(start: ten.addingTimeInterval(-36_000), end: ten.addingTimeInterval(50_400))
            let week = try TimeSlot(start: day.start, end: day.start.addingTimeInterval(7 * 86_400))
            let limited = try await blocks.read {
                var new = seat(noon, "fourth@example.com")
                new.rules = BookingRules(
                    capacity: 2,
                    periodLimits: [
                        PeriodLimit(kind: .day, period: day, limit: 10),
                        PeriodLimit(kind: .week, period: week, limit: 50),
                    ])
                let booked = try await store.insert(new)
                #expect(booked == .created(booked.record))
            }
            let window = try TimeSlot(start: ten.addingTimeInterval(-3600), end: ten.addingTimeInterval(3600))
            let read = try await blocks.read {
                let occupants = try await store.occupants(resource: .default, overlapping: window, now: now)
                #expect(occupants.map(\.slot) == [taken, taken])
            }
            // The resource's few entries, the rows and the inserts: tens of blocks (here the second seat 33, the refused
            // overlap 20, the limited booking 45, the occupants read 4). Probes without the hash, scanning every
            // resource's entries at those times, read 424 (refused), 423 (limited) and 425 (occupants).
            #expect(second < 120, "the second seat read \(second) blocks of appointments")
            #expect(refused < 120, "the refused overlap read \(refused) blocks of appointments")
            #expect(read < 40, "the occupants read \(read) blocks of appointments")
            #expect(limited < 150, "the limited booking read \(limited) blocks of appointments")
        }
    }
}
