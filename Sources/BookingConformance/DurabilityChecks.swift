import BookingDomain
import Foundation

extension ConformanceCheck {
    /// Durability: what a store keeps across close and reopen.
    static let durabilityChecks: [ConformanceCheck] = [
        ConformanceCheck(
            "survivesReopen",
            "Everything survives close and reopen (needs ``BookingConformance/Capabilities/reopen``).",
            requires: .reopen
        ) { context in
            guard let reopen = context.subject.reopen else { throw context.failure("no reopen given") }
            let booked = try await context.book(try context.draft(at: 60, key: "durable"))
            _ = try await context.store.cancel(id: booked.id, now: context.now.addingTimeInterval(1))
            let second = try await context.book(try context.draft(at: 90))
            let leased = try await context.claim("worker", limit: 1)
            try context.expectEqual(leased.count, 1, "claimed before reopen")
            let appointments = try await context.store.appointments()
            let before = try await context.store.notifications(appointmentID: nil)
            let reopened = try await reopen()
            try context.expectEqual(try await reopened.appointments(), appointments, "appointments after reopen")
            try context.expectEqual(
                try await reopened.notifications(appointmentID: nil), before, "notifications after reopen")
            try context.expectEqual(
                try await reopened.record(idempotencyKey: "durable")?.appointment.id, booked.id,
                "idempotency key after reopen")
            let third = try await reopened.insert(try context.draft(at: 120))
            try context.expect(third.record.appointment.id > second.id, "ids keep increasing after reopen")
            try await context.expectError(.slotUnavailable, "the no-overlap rule after reopen") {
                _ = try await reopened.insert(try context.draft(at: 90))
            }
        }
    ]
}
