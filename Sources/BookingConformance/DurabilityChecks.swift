import BookingDomain
import Foundation

extension ConformanceCheck {
    /// Durability: what a store keeps across close and reopen, and how its schema moves.
    static let durabilityChecks: [ConformanceCheck] = [
        ConformanceCheck(
            "survivesReopen",
            "Everything survives close and reopen (needs ``BookingConformance/Capabilities/reopen``): appointments with their secrets (cancel token hash, key, request fingerprint, sealed token), notifications with their leases, and live holds.",
            requires: .reopen
        ) { context in
            guard let reopen = context.subject.reopen else { throw context.failure("no reopen given") }
            var keyed = try context.draft(at: 60, key: "durable")
            keyed.sealedCancelToken = "sealed-copy-of-the-token"
            let booked = try await context.book(keyed)
            _ = try await context.store.cancel(id: booked.id, now: context.now.addingTimeInterval(1))
            let second = try await context.book(try context.draft(at: 90))
            let leased = try await context.claim("worker", limit: 1)
            try context.expectEqual(leased.count, 1, "claimed before reopen")
            let hold = try context.hold("kept", at: 150)
            try await context.store.placeHold(hold)
            let before = try await context.contents()
            let records = [
                try await context.store.record(id: booked.id), try await context.store.record(id: second.id),
            ]
            let reopened = try await reopen()
            try await context.expectUnchanged(before, "after reopen", in: reopened)
            try context.expectEqual(
                [try await reopened.record(id: booked.id), try await reopened.record(id: second.id)], records,
                "records (the secrets only the service reads) after reopen")
            try context.expectEqual(
                try await reopened.record(idempotencyKey: "durable")?.appointment.id, booked.id,
                "idempotency key after reopen")
            try context.expectEqual(
                try await reopened.occupants(resource: .default, overlapping: hold.occupied, now: context.now),
                [SlotOccupant(slot: hold.slot, occupied: hold.occupied, holdExpiresAt: hold.expiresAt)],
                "a live hold after reopen")
            try await context.expectError(.slotHeld, "a booking of the held slot after reopen") {
                _ = try await reopened.insert(try context.draft(at: 150, email: "b@example.com"))
            }
            _ = try await reopened.insert(try context.draft(at: 150, email: "b@example.com", holdToken: "kept"))
            let third = try await reopened.insert(try context.draft(at: 120))
            try context.expect(third.record.appointment.id > second.id, "ids keep increasing after reopen")
            try await context.expectError(.slotUnavailable, "the no-overlap rule after reopen") {
                _ = try await reopened.insert(try context.draft(at: 90))
            }
        },
        ConformanceCheck(
            "migrateIsIdempotent",
            "migrate() on a store in use, again and from several callers at once, changes no data and the store keeps working."
        ) { context in
            let booked = try await context.book(try context.draft(at: 60, key: "before-migrate"))
            let before = try await context.contents()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { try await context.store.migrate() } }
                try await group.waitForAll()
            }
            try await context.expectUnchanged(before, "after migrate()")
            try context.expectEqual(
                try await context.store.record(idempotencyKey: "before-migrate")?.appointment.id, booked.id,
                "idempotency key after migrate()")
            try await context.expectError(.slotUnavailable, "the no-overlap rule after migrate()") {
                _ = try await context.store.insert(try context.draft(at: 60))
            }
            try context.expect(
                try await context.store.insert(try context.draft(at: 90)).record.appointment.id > booked.id,
                "a booking after migrate()")
        },
        ConformanceCheck(
            "migrationsRunOnceWhenStoresStartTogether",
            "Stores opened at once on one fresh database migrate it once: each version recorded once, every store works.",
            requires: .schemaMigrations
        ) { context in
            guard let schema = context.subject.schema else { throw context.failure("no schema hooks given") }
            let stores = try await schema.openTogether(4)
            try context.expectEqual(stores.count, 4, "stores opened together")
            let versions = try await schema.appliedVersions(stores[0])
            try context.expect(!versions.isEmpty, "no migration was recorded")
            try context.expectEqual(Set(versions).count, versions.count, "versions recorded once each")
            for store in stores.dropFirst() {
                try context.expectEqual(
                    try await schema.appliedVersions(store), versions, "versions seen by each store")
            }
            let booked = try await stores[1].insert(try context.draft(at: 60))
            try context.expectEqual(
                try await stores[3].record(id: booked.record.appointment.id)?.appointment, booked.record.appointment,
                "a booking made through one store, read through another")
            try await context.expectError(.slotUnavailable, "the no-overlap rule across stores") {
                _ = try await stores[2].insert(try context.draft(at: 60))
            }
        },
        ConformanceCheck(
            "newerSchemaIsRefused",
            "A database migrated by a newer version is refused with a clear error, and left as it was.",
            requires: .schemaMigrations
        ) { context in
            guard let schema = context.subject.schema else { throw context.failure("no schema hooks given") }
            let booked = try await context.book(try context.draft(at: 60))
            try await schema.recordNewerVersion()
            do {
                _ = try await schema.openAgain()
                throw context.failure("opening a database of a newer schema succeeded")
            } catch let error as BookingError {
                try context.expectEqual(error.code, .storeUnavailable, "error code")
                try context.expect(
                    error.message.contains("newer"), "the error says the schema is newer: \(error.message)")
            }
            try context.expectEqual(
                try await context.store.record(id: booked.id)?.appointment, booked, "the data after the refusal")
        },
    ]
}
