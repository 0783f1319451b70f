import BookingDomain
import Foundation

extension ConformanceCheck {
    /// Appointments: the no-overlap rule, cancels, idempotency keys, listing, timestamps and text.
    static let bookingChecks: [ConformanceCheck] = [
        ConformanceCheck(
            "bookingWritesAppointmentAndNotification",
            "A booking writes the appointment and exactly one pending `booked` notification; reads return what was written."
        ) { context in
            var new = try context.draft(at: 60, key: "key-1")
            new.sealedCancelToken = "c2VhbGVkIGNhbmNlbCB0b2tlbg=="
            let booked = try await context.book(new)
            try context.expectEqual(booked.status, .booked, "status")
            try context.expectEqual(booked.slot, new.slot, "slot")
            try context.expectEqual(booked.occupied, new.occupied, "occupied interval")
            try context.expectEqual(booked.customerName, new.customerName, "customer name")
            try context.expectEqual(booked.note, new.note, "note")
            try context.expectEqual(booked.createdAt, context.now, "created_at")
            try context.expectEqual(booked.cancelledAt, nil, "cancelled_at")
            let read = try await context.store.record(id: booked.id)
            try context.expectEqual(read?.appointment, booked, "record(id:) after insert")
            try context.expectEqual(read?.cancelTokenHash, new.cancelTokenHash, "cancel token hash")
            try context.expectEqual(read?.requestFingerprint, new.requestFingerprint, "request fingerprint")
            try context.expectEqual(read?.sealedCancelToken, new.sealedCancelToken, "sealed cancel token")
            try context.expectEqual(
                try await context.store.record(idempotencyKey: "key-1")?.appointment, booked, "record(idempotencyKey:)")
            try context.expectEqual(
                try await context.store.record(idempotencyKey: "other")?.appointment, nil, "unknown idempotency key")
            try context.expectEqual(
                try await context.store.record(id: booked.id + 1000)?.appointment, nil, "unknown id")
            let notifications = try await context.store.notifications(appointmentID: booked.id)
            try context.expectEqual(notifications.count, 1, "notifications of a new booking")
            let notification = notifications[0]
            try context.expectEqual(notification.kind, .booked, "notification kind")
            try context.expectEqual(notification.status, .pending, "notification status")
            try context.expectEqual(notification.attempts, 0, "notification attempts")
            try context.expectEqual(notification.nextAttemptAt, context.now, "notification due time")
            try context.expectEqual(notification.leaseOwner, nil, "notification lease")
            try context.expectEqual(try await context.store.appointments(), [booked], "listing")
            try await context.store.checkHealth()
        },
        ConformanceCheck(
            "concurrentBookingsOfOneSlot",
            "Concurrent (the suite's concurrency, 200 by default) bookings of one slot: exactly one succeeds, the rest get `slotUnavailable`."
        ) { context in
            let new = try context.draft(at: 60)
            let outcomes = await context.concurrently(context.concurrency) { _ in
                await CheckContext.attempt(context.store, new)
            }
            try context.expectConcurrentWinner(outcomes)
            try await context.expectSingleBooking()
        },
        ConformanceCheck(
            "concurrentOverlappingBookings",
            "Concurrent (the suite's concurrency, 200 by default) bookings of overlapping but unequal intervals: exactly one succeeds."
        ) { context in
            // Every interval contains minute 100 but no two have equal bounds.
            let drafts = try (0..<context.concurrency).map { index in
                try context.draft(at: 100 - (index % 50) - 1, minutes: 2 + index / 50 + (index % 50))
            }
            let outcomes = await context.concurrently(drafts.count) { index in
                await CheckContext.attempt(context.store, drafts[index])
            }
            try context.expectConcurrentWinner(outcomes)
            try await context.expectSingleBooking()
        },
        ConformanceCheck(
            "differentResourcesDoNotConflict",
            "Equal intervals of different resources never conflict."
        ) { context in
            let resources: [ResourceID] = ["room-a", "room-b", "dr.who"]
            for resource in resources { try await context.book(try context.draft(resource, at: 60)) }
            try context.expectEqual(
                try await context.store.appointments().count, resources.count, "appointments of three resources")
            try await context.expectError(.slotUnavailable, "same slot, same resource") {
                _ = try await context.store.insert(try context.draft("room-a", at: 60))
            }
        },
        ConformanceCheck(
            "occupiedIntervalsConflict",
            "Occupied intervals (slot plus buffers) conflict even when the slots do not; touching ones do not."
        ) { context in
            try await context.book(try context.draft(at: 60, buffer: 15))
            // The slot 90-120 does not overlap 60-90, but its occupied interval 75-135 overlaps 45-105.
            try await context.expectError(.slotUnavailable, "overlap of buffers") {
                _ = try await context.store.insert(try context.draft(at: 90, buffer: 15))
            }
            // 120-150 widened by 15 starts at 105, where 45-105 ends: touching is allowed.
            try await context.book(try context.draft(at: 120, buffer: 15))
            try await context.expectError(.slotUnavailable, "an interval inside a booked one") {
                _ = try await context.store.insert(try context.draft(at: 65, minutes: 5))
            }
            try await context.expectError(.slotUnavailable, "an interval around a booked one") {
                _ = try await context.store.insert(try context.draft(at: 30, minutes: 120))
            }
        },
        ConformanceCheck(
            "refusedBookingWritesNothing",
            "A refused booking (conflict or invalid input, an instant outside the years 0001-9999 included) writes no appointment and no notification."
        ) { context in
            let first = try await context.book(try context.draft(at: 60))
            try await context.expectError(.slotUnavailable, "conflicting insert") {
                _ = try await context.store.insert(try context.draft(at: 45))
            }
            var inverted = try context.draft(at: 200)
            inverted.occupied = try TimeSlot(
                start: inverted.slot.start.addingTimeInterval(600), end: inverted.slot.end.addingTimeInterval(600))
            try await context.expectError(.invalidInput, "occupied interval not containing the slot") {
                _ = try await context.store.insert(inverted)
            }
            var nameless = try context.draft(at: 300)
            nameless.customerName = ""
            try await context.expectError(.invalidInput, "empty name") { _ = try await context.store.insert(nameless) }
            // Instants no store can keep to the millisecond (as a host decoding JSON numbers may pass): refused, no trap.
            var farNow = try context.draft(at: 400)
            farNow.now = Date(timeIntervalSince1970: 1e300)
            try await context.expectError(.invalidInput, "a now outside the years 0001-9999") {
                _ = try await context.store.insert(farNow)
            }
            var farOccupied = try context.draft(at: 500)
            farOccupied.occupied = farOccupied.slot.widened(before: 0, after: 1e300)
            try await context.expectError(.invalidInput, "an occupied interval past the year 9999") {
                _ = try await context.store.insert(farOccupied)
            }
            try context.expectEqual(
                try await context.store.appointments().map(\.id), [first.id], "appointments after refused inserts")
            try context.expectEqual(
                try await context.store.notifications(appointmentID: nil).count, 1,
                "notifications after refused inserts")
        },
        ConformanceCheck(
            "cancelledSlotCanBeBookedAgain",
            "A cancelled slot can be booked again."
        ) { context in
            let first = try await context.book(try context.draft(at: 60))
            let later = context.now.addingTimeInterval(5)
            let outcome = try await context.store.cancel(id: first.id, now: later)
            guard case .cancelled(let cancelled) = outcome else {
                throw context.failure("the first cancel must answer cancelled, got \(String(describing: outcome))")
            }
            try context.expectEqual(cancelled.status, .cancelled, "status after cancel")
            try context.expectEqual(cancelled.cancelledAt, later, "cancelled_at")
            try context.expectEqual(cancelled.updatedAt, later, "updated_at after cancel")
            try context.expectEqual(cancelled.createdAt, first.createdAt, "created_at after cancel")
            let second = try await context.book(try context.draft(at: 60))
            try context.expect(second.id > first.id, "ids must increase: \(first.id) then \(second.id)")
            try context.expectEqual(
                try await context.store.appointments().map(\.status), [.cancelled, .booked], "statuses")
        },
        ConformanceCheck(
            "concurrentCancels",
            "Concurrent (the suite's concurrency, 200 by default) cancels: one transition (sequence up by one once), which exactly one caller is told it made, one `cancelled` notification with that sequence, every caller sees it cancelled."
        ) { context in
            let booked = try await context.book(try context.draft(at: 60))
            let at = context.now.addingTimeInterval(1)
            let results = await context.concurrently(context.concurrency) { _ -> Result<CancelOutcome?, BookingError> in
                do throws(BookingError) {
                    return .success(try await context.store.cancel(id: booked.id, now: at))
                } catch {
                    return .failure(error)
                }
            }
            let errors = Set(results.compactMap { if case .failure(let error) = $0 { error.description } else { nil } })
            try context.expect(errors.isEmpty, "concurrent cancels failed: \(errors.sorted())")
            try context.expect(
                results.allSatisfy {
                    let cancelled = (try? $0.get())??.appointment
                    return cancelled?.status == .cancelled && cancelled?.cancelledAt == at && cancelled?.sequence == 1
                },
                "every caller gets the cancelled appointment at sequence 1")
            let transitions = results.filter { if case .success(.cancelled?) = $0 { true } else { false } }.count
            try context.expectEqual(transitions, 1, "callers told they cancelled it (the rest: already cancelled)")
            let notifications = try await context.store.notifications(appointmentID: booked.id)
            try context.expectEqual(
                notifications.map(\.kind), [.booked, .cancelled], "notifications after concurrent cancels")
            try context.expectEqual(notifications.map(\.sequence), [0, 1], "notification sequences")
            let again = try await context.store.cancel(id: booked.id, now: at.addingTimeInterval(60))
            guard case .alreadyCancelled(let unchanged) = again else {
                throw context.failure("a later cancel must answer already cancelled, got \(String(describing: again))")
            }
            try context.expectEqual(unchanged.cancelledAt, at, "cancelled_at after a later cancel")
            try context.expectEqual(unchanged.updatedAt, at, "updated_at after a later cancel")
            try context.expectEqual(unchanged.sequence, 1, "sequence after a later cancel")
        },
        ConformanceCheck(
            "concurrentReuseOfAnIdempotencyKey",
            "Concurrent (the suite's concurrency, 200 by default) inserts with one idempotency key and different requests (each its own slot): one appointment, created once; every other caller gets it as existing, with the winner's request fingerprint, so the service can tell a reuse from a retry."
        ) { context in
            let drafts = try (0..<context.concurrency).map { index in
                try context.draft(at: 60 + 30 * index, key: "reused-key", email: "\(index)@example.com")
            }
            let outcomes = await context.concurrently(drafts.count) { index -> Result<InsertOutcome, BookingError> in
                do throws(BookingError) {
                    return .success(try await context.store.insert(drafts[index]))
                } catch {
                    return .failure(error)
                }
            }
            let errors = Set(
                outcomes.compactMap { if case .failure(let error) = $0 { error.description } else { nil } })
            try context.expect(errors.isEmpty, "inserts with a reused key failed: \(errors.sorted())")
            let records = outcomes.compactMap { try? $0.get() }
            let created = records.compactMap { if case .created(let record) = $0 { record } else { nil } }
            try context.expectEqual(created.count, 1, "inserts that created")
            let winner = created[0]
            let winnerDraft = drafts.first { $0.slot == winner.appointment.slot }
            try context.expectEqual(
                winner.requestFingerprint, winnerDraft?.requestFingerprint, "the created appointment's fingerprint")
            for case .existing(let existing) in records {
                try context.expectEqual(existing.appointment.id, winner.appointment.id, "the existing appointment")
                try context.expectEqual(
                    existing.requestFingerprint, winner.requestFingerprint, "the existing appointment's fingerprint")
            }
            try await context.expectSingleBooking()
        },
        ConformanceCheck(
            "readersNeverSeeHalfAWrite",
            "Readers running beside concurrent bookings and cancels (the suite's concurrency, 200 by default, half of each) never see half of one: every appointment a reader lists has, in the notifications it reads next, its `booked` notification, and its `cancelled` one when it is cancelled (each written in the same transaction as the change)."
        ) { context in
            let count = max(10, context.concurrency / 2)
            let drafts = try (0..<count).map { try context.draft(at: 60 + 30 * $0, email: "\($0)@example.com") }
            let writersLeft = RunningCount(count)
            let results = await context.concurrently(count + 10) { index -> [String] in
                if index < count {
                    defer { writersLeft.decrement() }
                    do {
                        let booked = try await context.store.insert(drafts[index]).record.appointment
                        _ = try await context.store.cancel(id: booked.id, now: context.now.addingTimeInterval(1))
                        return []
                    } catch {
                        return ["error: a booking or its cancel failed: \(error)"]
                    }
                }
                var problems: [String] = []
                repeat {
                    let listed: [Appointment]
                    let notifications: [BookingNotification]
                    do {
                        listed = try await context.store.appointments()
                        notifications = try await context.store.notifications(appointmentID: nil)
                    } catch {
                        return ["error: a read failed: \(error)"]
                    }
                    let kinds = Dictionary(grouping: notifications, by: \.appointmentID).mapValues {
                        Set($0.map(\.kind))
                    }
                    for appointment in listed {
                        let written = kinds[appointment.id] ?? []
                        if !written.contains(.booked) {
                            problems.append("#\(appointment.id) listed without its booked")
                        }
                        if appointment.status == .cancelled && !written.contains(.cancelled) {
                            problems.append("#\(appointment.id) listed cancelled without its cancelled notification")
                        }
                    }
                    await Task.yield()
                } while writersLeft.value > 0 && problems.isEmpty
                return problems
            }
            let problems = results.flatMap { $0 }
            let errors = problems.filter { $0.hasPrefix("error: ") }
            try context.expect(errors.isEmpty, "the store failed during the race: \(errors.prefix(3))")
            try context.expect(problems.isEmpty, "a reader saw half of a write: \(problems.prefix(3))")
            try context.expectEqual(
                try await context.store.appointments().filter { $0.status == .cancelled }.count, count,
                "appointments booked and cancelled")
        },
        ConformanceCheck(
            "cancelOfUnknownAppointment",
            "Cancelling an unknown id returns nil and writes nothing."
        ) { context in
            try context.expectEqual(
                try await context.store.cancel(id: 424_242, now: context.now), nil, "cancel of an unknown id")
            try context.expectEqual(try await context.store.notifications(appointmentID: nil).count, 0, "notifications")
        },
        ConformanceCheck(
            "concurrentIdempotentBookings",
            "Concurrent (the suite's concurrency, 200 by default) inserts with one idempotency key: one appointment, every caller gets it."
        ) { context in
            let new = try context.draft(at: 60, key: "retry-key")
            let outcomes = await context.concurrently(context.concurrency) { _ in
                do { return try await context.store.insert(new) as InsertOutcome? } catch { return nil }
            }
            try context.expect(outcomes.allSatisfy { $0 != nil }, "every insert with the key returns the appointment")
            let created = outcomes.filter { if case .created = $0 { true } else { false } }
            try context.expectEqual(created.count, 1, "inserts that created")
            try context.expectEqual(
                Set(outcomes.compactMap { $0?.record.appointment.id }).count, 1, "distinct appointment ids")
            try context.expectEqual(try await context.store.appointments().count, 1, "appointments")
            try context.expectEqual(try await context.store.notifications(appointmentID: nil).count, 1, "notifications")
        },
        ConformanceCheck(
            "listingOrder",
            "Listing is ordered by slot start, then id."
        ) { context in
            let late = try await context.book(try context.draft("b", at: 300))
            let early = try await context.book(try context.draft("c", at: 60))
            // The tie's first id has the later resource name, so an order by start and resource fails.
            let tieFirst = try await context.book(try context.draft("d", at: 120))
            let tieSecond = try await context.book(try context.draft("a", at: 120))
            _ = try await context.store.cancel(id: early.id, now: context.now)
            try context.expectEqual(
                try await context.store.appointments().map(\.id), [early.id, tieFirst.id, tieSecond.id, late.id],
                "order")
        },
        ConformanceCheck(
            "listingOfAResourceFromAnInstant",
            "A resource's listing from an instant holds its appointments, booked and cancelled, whose slot starts at or "
                + "after it (not one that started before and ends after), by slot start, then id."
        ) { context in
            let two = BookingRules(capacity: 2)
            let last = try await context.book(try context.draft("a", at: 300))
            _ = try await context.book(try context.draft("a", at: 0))
            let first = try await context.book(try context.draft("a", at: 60))
            let straddling = try await context.book(try context.draft("a", at: 100))
            let cancelled = try await context.book(try context.draft("a", at: 140))
            _ = try await context.store.cancel(id: cancelled.id, now: context.now)
            let seat = try await context.book(try context.draft("a", at: 180, rules: two))
            let secondSeat = try await context.book(
                try context.draft("a", at: 180, email: "grace@example.com", rules: two))
            for offset in [0, 60, 90, 120] { _ = try await context.book(try context.draft("b", at: offset)) }
            func listing(from minutes: Double) async throws -> [Appointment] {
                try await context.store.appointments(
                    of: "a", startingFrom: context.now.addingTimeInterval(minutes * 60))
            }
            try context.expectEqual(
                try await listing(from: 60).map(\.id),
                [first.id, straddling.id, cancelled.id, seat.id, secondSeat.id, last.id],
                "resource a's appointments from +60 min")
            try context.expectEqual(
                try await listing(from: 60).map(\.status), [.booked, .booked, .cancelled, .booked, .booked, .booked],
                "their statuses")
            try context.expectEqual(
                try await listing(from: 60 + 0.001 / 60).first?.id, straddling.id,
                "one millisecond after +60 min, the slot starting then is left out")
            try context.expectEqual(
                try await listing(from: 110).map(\.id), [cancelled.id, seat.id, secondSeat.id, last.id],
                "from +110 min, the slot of +100 to +130 min (started before, ends after) is left out")
            try context.expectEqual(
                try await context.store.appointments(of: "c", startingFrom: context.now).count, 0, "an unknown resource"
            )
        },
        ConformanceCheck(
            "timestampsRoundTrip",
            "Instants round-trip exactly at millisecond precision, before 1970 and far ahead too."
        ) { context in
            let instants: [Int64] = [-1, 1_803_801_600_123, 1_803_801_659_999, 32_503_680_000_001]
            for (index, milliseconds) in instants.enumerated() {
                let start = Date(millisecondsSince1970: milliseconds)
                let slot = try TimeSlot(start: start, end: Date(millisecondsSince1970: milliseconds + 1_800_001))
                var new = try context.draft(try ResourceID.parse("r\(index)"), at: 0)
                new.slot = slot
                new.occupied = slot
                new.now = Date(millisecondsSince1970: milliseconds + 7)
                let booked = try await context.book(new)
                let read = try await context.store.record(id: booked.id)?.appointment
                try context.expectEqual(read?.slot.start.millisecondsSince1970, milliseconds, "slot start")
                try context.expectEqual(read?.slot.end.millisecondsSince1970, milliseconds + 1_800_001, "slot end")
                try context.expectEqual(read?.createdAt.millisecondsSince1970, milliseconds + 7, "created_at")
                try context.expectEqual(
                    read?.slot.start, Date(millisecondsSince1970: milliseconds), "slot start as a Date")
                let due = try await context.store.notifications(appointmentID: booked.id).first?.nextAttemptAt
                try context.expectEqual(due?.millisecondsSince1970, milliseconds + 7, "notification due time")
            }
        },
        ConformanceCheck(
            "unicodeTextRoundTrips",
            "Any valid Unicode text (emoji sequences, combining marks, right-to-left, 4-byte scalars) round-trips exactly."
        ) { context in
            // Compared scalar by scalar: Swift's `==` treats canonically equivalent strings as equal,
            // and a context.store that normalises (é as one scalar or two) must fail this check.
            let texts = [
                "👩🏽‍💻 Ada", "می‌خواهم نوبت", "श्री‌मान", "e\u{301}le\u{300}ve", "\u{E9}l\u{E8}ve", "שלום עליכם (RTL)",
                "\u{202E}override\u{202C}", "𝔄𝔡𝔞 𠜎 🀄", "a\u{FEFF}b\u{200B}c", "\u{10FFFD}", "quote ' \" \\ % _ ;--",
            ]
            for (index, text) in texts.enumerated() {
                var new = try context.draft(at: 60 * index)
                new.customerName = text
                new.customerEmail = "\(text.unicodeScalars.count)-ñandú@exämple.com"
                new.note = text + "\n\t" + text
                let booked = try await context.book(new)
                let read = try await context.store.record(id: booked.id)?.appointment
                for (what, written, returned) in [
                    ("name from insert", new.customerName, booked.customerName),
                    ("name from record(id:)", new.customerName, read?.customerName ?? ""),
                    ("email from record(id:)", new.customerEmail, read?.customerEmail ?? ""),
                    ("note from record(id:)", new.note ?? "", read?.note ?? ""),
                ] {
                    try context.expect(
                        Array(written.unicodeScalars) == Array(returned.unicodeScalars),
                        "\(what): wrote scalars \(CheckContext.scalars(written)), read \(CheckContext.scalars(returned))"
                    )
                }
            }
            let listed = try await context.store.appointments().map(\.customerName)
            try context.expect(
                listed.map { Array($0.unicodeScalars) } == texts.map { Array($0.unicodeScalars) },
                "names from appointments() differ from what was written")
        },
        ConformanceCheck(
            "occupantsOfAWindow",
            "Occupants of a window: only overlapping, booked, same-resource appointments, sorted by occupied start."
        ) { context in
            let a = try await context.book(try context.draft(at: 0))
            let b = try await context.book(try context.draft(at: 30, buffer: 0))
            let c = try await context.book(try context.draft(at: 120))
            try await context.book(try context.draft("other", at: 30))
            let cancelled = try await context.book(try context.draft(at: 200))
            _ = try await context.store.cancel(id: cancelled.id, now: context.now)
            let window = try TimeSlot(
                start: context.now.addingTimeInterval(30 * 60), end: context.now.addingTimeInterval(121 * 60))
            let intervals = try await context.occupiedIntervals(overlapping: window)
            try context.expectEqual(intervals, [b.occupied, c.occupied], "intervals overlapping 30-121")
            let all = try await context.occupiedIntervals(
                overlapping: try TimeSlot(
                    start: context.now.addingTimeInterval(-86_400), end: context.now.addingTimeInterval(86_400)))
            try context.expectEqual(all, [a.occupied, b.occupied, c.occupied], "every booked interval")
        },
    ]
}
