import BookingDomain
import Foundation

extension ConformanceCheck {
    /// Capacity (seats per slot) and booking limits per day or week, under concurrency (invariant 12).
    static let capacityChecks: [ConformanceCheck] = [
        ConformanceCheck(
            "concurrentBookingsOfASlotWithSeats",
            "Capacity 5, concurrent (the suite's concurrency, 200 by default, at least 10) bookings of one slot with distinct emails: exactly 5 succeed, the rest get `slotUnavailable`; a cancel frees exactly one seat."
        ) { context in
            let rules = BookingRules(capacity: 5)
            let round = { @Sendable (tag: String) async throws in
                // At least 10 attempts for 5 seats, whatever the suite's concurrency.
                let drafts = try (0..<max(10, context.concurrency)).map { index in
                    try context.draft(at: 60, email: "\(tag)-\(index)@example.com", rules: rules)
                }
                return await context.concurrently(drafts.count) {
                    await CheckContext.attempt(context.store, drafts[$0])
                }
            }
            try context.expectWinners(try await round("first"), 5, losersGet: [.slotUnavailable])
            let seated = try await context.bookedAppointments()
            try context.expectEqual(seated.count, 5, "booked appointments in the slot")
            try context.expectEqual(
                try await context.store.notifications(appointmentID: nil).count, 5, "notifications of the seats")
            _ = try await context.store.cancel(id: seated[2].id, now: context.now)
            try context.expectWinners(try await round("second"), 1, losersGet: [.slotUnavailable])
            try context.expectEqual(try await context.bookedAppointments().count, 5, "booked after the cancel")
        },
        ConformanceCheck(
            "seatsNeverShareWithAnOverlappingSlot",
            "Seats are shared by one slot only: a different slot that overlaps it (through its times or buffers) conflicts, even with seats left on both sides; under concurrency only one of the two slots is ever taken."
        ) { context in
            let rules = BookingRules(capacity: 3)
            try await context.book(try context.draft(at: 60, email: "a@example.com", rules: rules))
            try await context.expectError(.slotUnavailable, "a different slot overlapping a seated one") {
                _ = try await context.store.insert(try context.draft(at: 75, email: "b@example.com", rules: rules))
            }
            try await context.expectError(.slotUnavailable, "a slot whose buffer reaches into a seated one") {
                _ = try await context.store.insert(
                    try context.draft(at: 90, buffer: 5, email: "b@example.com", rules: rules))
            }
            try await context.book(try context.draft(at: 90, email: "b@example.com", rules: rules))
            // A race between two overlapping slots at 180 and 195, each with three seats.
            let drafts = try (0..<max(10, context.concurrency)).map { index in
                try context.draft(at: index % 2 == 0 ? 180 : 195, email: "\(index)@example.com", rules: rules)
            }
            let outcomes = await context.concurrently(drafts.count) {
                await CheckContext.attempt(context.store, drafts[$0])
            }
            try context.expectWinners(outcomes, 3, losersGet: [.slotUnavailable])
            let raced = try await context.bookedAppointments().filter {
                $0.slot.start >= context.now.addingTimeInterval(180 * 60)
            }
            try context.expectEqual(Set(raced.map(\.slot)).count, 1, "slots taken in the race")
        },
        ConformanceCheck(
            "sameEmailTwiceInASlot",
            "The same email (ignoring case) twice in one slot is `alreadyBooked` and changes nothing, also when concurrent; in another slot it books."
        ) { context in
            let rules = BookingRules(capacity: 4)
            try await context.book(try context.draft(at: 60, email: "ada@example.com", rules: rules))
            let before = try await context.contents()
            try await context.expectError(.alreadyBooked, "the same email again") {
                _ = try await context.store.insert(try context.draft(at: 60, email: "ADA@Example.com", rules: rules))
            }
            try await context.expectUnchanged(before, "after a second booking by one customer")
            try await context.book(try context.draft(at: 90, email: "ada@example.com", rules: rules))
            let twice = try context.draft(at: 120, email: "grace@example.com", rules: rules)
            let outcomes = await context.concurrently(50) { _ in await CheckContext.attempt(context.store, twice) }
            try context.expectWinners(outcomes, 1, losersGet: [.alreadyBooked])
        },
        ConformanceCheck(
            "rescheduleIntoAFullSlot",
            "A move into a slot whose seats are all booked is `slotUnavailable` and changes nothing; once a seat is cancelled the move takes it, and the moved appointment's old seat is free; a move into a slot where the customer (by email, ignoring case) has a seat is `alreadyBooked`."
        ) { context in
            let rules = BookingRules(capacity: 2)
            let first = try await context.book(try context.draft(at: 60, email: "a@example.com", rules: rules))
            try await context.book(try context.draft(at: 60, email: "b@example.com", rules: rules))
            let mover = try await context.book(try context.draft(at: 120, email: "c@example.com", rules: rules))
            let before = try await context.contents()
            try await context.expectError(.slotUnavailable, "a move into a full slot") {
                _ = try await context.store.reschedule(try context.move(mover.id, to: 60, rules: rules))
            }
            try await context.expectUnchanged(before, "after a move into a full slot")
            _ = try await context.store.cancel(id: first.id, now: context.now)
            try await context.reschedule(try context.move(mover.id, to: 60, rules: rules))
            try context.expectEqual(
                try await context.bookedAppointments().filter { $0.slot.start == mover.slot.start }.count, 0,
                "seats left behind at 120")
            try await context.expectError(.slotUnavailable, "a third seat in the full slot") {
                _ = try await context.store.insert(try context.draft(at: 60, email: "d@example.com", rules: rules))
            }
            // The customer of a seat at 180 cannot move into 240, where they already have one.
            let roomy = BookingRules(capacity: 3)
            try await context.book(try context.draft(at: 240, email: "e@example.com", rules: roomy))
            let twice = try await context.book(try context.draft(at: 180, email: "E@example.com", rules: roomy))
            try await context.expectError(.alreadyBooked, "a move into a slot where the customer has a seat") {
                _ = try await context.store.reschedule(try context.move(twice.id, to: 240, rules: roomy))
            }
        },
        ConformanceCheck(
            "concurrentBookingsUnderADailyLimit",
            "A limit of 3 per day, concurrent bookings of 50 different slots of that day: exactly 3 succeed, the rest get `bookingLimitReached`; another day is not counted; a cancel reopens one place."
        ) { context in
            let day = try context.limit(.day, 3, from: 0, hours: 24)
            let rules = BookingRules(capacity: 1, periodLimits: [day])
            let round = { @Sendable (tag: String) async throws in
                let drafts = try (0..<50).map { index in
                    try context.draft(
                        at: 60 + index * 20, minutes: 20, email: "\(tag)\(index)@example.com", rules: rules)
                }
                return await context.concurrently(drafts.count) {
                    await CheckContext.attempt(context.store, drafts[$0])
                }
            }
            try context.expectWinners(try await round("a"), 3, losersGet: [.bookingLimitReached])
            let booked = try await context.bookedAppointments()
            try context.expectEqual(booked.count, 3, "booked appointments of the day")
            // The next day is its own period.
            let nextDay = BookingRules(
                capacity: 1, periodLimits: [try context.limit(.day, 3, from: 24 * 60, hours: 24)])
            try await context.book(try context.draft(at: 24 * 60 + 60, rules: nextDay))
            _ = try await context.store.cancel(id: booked[0].id, now: context.now)
            try context.expectWinners(try await round("b"), 1, losersGet: [.bookingLimitReached, .slotUnavailable])
            try context.expectEqual(
                try await context.bookedAppointments().count, 4, "booked after the cancel and the next day")
        },
        ConformanceCheck(
            "concurrentMovesIntoASlotWithSeats",
            "Capacity 5, concurrent (the suite's concurrency, 200 by default, at least 10) moves of appointments of other slots, each a different customer, into one slot: exactly 5 move, the rest get `slotUnavailable` and stay where they were."
        ) { context in
            let rules = BookingRules(capacity: 5)
            var movers: [Appointment] = []
            for index in 0..<max(10, context.concurrency) {
                movers.append(
                    try await context.book(try context.draft(at: 120 + 30 * index, email: "\(index)@example.com")))
            }
            let moves = try movers.map { try context.move($0.id, to: 60, rules: rules) }
            let outcomes = await context.concurrently(moves.count) { index in
                await CheckContext.attempt(context.store, moves[index])
            }
            try context.expectWinners(outcomes, 5, losersGet: [.slotUnavailable])
            let booked = try await context.bookedAppointments()
            try context.expectEqual(booked.filter { $0.slot == moves[0].slot }.count, 5, "seats taken by the moves")
            try context.expectEqual(booked.count, movers.count, "booked appointments")
            let stayed = Set(booked.filter { $0.slot != moves[0].slot }.map(\.slot))
            try context.expectEqual(stayed.count, movers.count - 5, "appointments left in their own slots")
        },
        ConformanceCheck(
            "concurrentMovesUnderADailyLimit",
            "A limit of 3 per day, concurrent moves of 50 appointments of the next day into 50 different slots of that day: exactly 3 move, the rest get `bookingLimitReached` and stay where they were."
        ) { context in
            let day = BookingRules(capacity: 1, periodLimits: [try context.limit(.day, 3, from: 0, hours: 24)])
            var movers: [Appointment] = []
            for index in 0..<50 {
                movers.append(
                    try await context.book(
                        try context.draft(at: 24 * 60 + 20 * index, minutes: 20, email: "\(index)@example.com")))
            }
            let moves = try movers.enumerated().map { index, mover in
                try context.move(mover.id, to: 60 + 20 * index, minutes: 20, rules: day)
            }
            let outcomes = await context.concurrently(moves.count) { index in
                await CheckContext.attempt(context.store, moves[index])
            }
            try context.expectWinners(outcomes, 3, losersGet: [.bookingLimitReached])
            let firstDayEnd = context.now.addingTimeInterval(24 * 3600)
            let booked = try await context.bookedAppointments()
            try context.expectEqual(
                booked.filter { $0.slot.start < firstDayEnd }.count, 3, "appointments in the limited day")
            // Every appointment not moved into the limited day is in its own slot still, none in another's.
            let moved = Set(outcomes.compactMap { try? $0.get() })
            let slots = Dictionary(uniqueKeysWithValues: booked.map { ($0.id, $0.slot) })
            try context.expect(
                movers.allSatisfy { moved.contains($0.id) || slots[$0.id] == $0.slot },
                "each refused appointment stays in its own slot")
        },
        ConformanceCheck(
            "weeklyLimit",
            "A limit of 2 per week counts every day of the week: a third booking on another day of it is `bookingLimitReached`, the next week books."
        ) { context in
            let week = BookingRules(capacity: 1, periodLimits: [try context.limit(.week, 2, from: 0, hours: 7 * 24)])
            try await context.book(try context.draft(at: 60, rules: week))
            try await context.book(try context.draft(at: 2 * 24 * 60, rules: week))
            let before = try await context.contents()
            try await context.expectError(.bookingLimitReached, "a third booking in the week") {
                _ = try await context.store.insert(try context.draft(at: 6 * 24 * 60, rules: week))
            }
            try await context.expectUnchanged(before, "after a refused booking")
            let nextWeek = BookingRules(
                capacity: 1, periodLimits: [try context.limit(.week, 2, from: 7 * 24 * 60, hours: 7 * 24)])
            try await context.book(try context.draft(at: 7 * 24 * 60 + 60, rules: nextWeek))
        },
        ConformanceCheck(
            "rescheduleUnderALimit",
            "A move within a day at its limit never counts twice; a move into a day at its limit from another day is `bookingLimitReached` and changes nothing."
        ) { context in
            let today = BookingRules(capacity: 1, periodLimits: [try context.limit(.day, 2, from: 0, hours: 24)])
            let first = try await context.book(try context.draft(at: 60, rules: today))
            try await context.book(try context.draft(at: 120, rules: today))
            try await context.reschedule(try context.move(first.id, to: 180, rules: today))
            let tomorrow = BookingRules(
                capacity: 1, periodLimits: [try context.limit(.day, 2, from: 24 * 60, hours: 24)])
            let visitor = try await context.book(try context.draft(at: 24 * 60 + 60, rules: tomorrow))
            let before = try await context.contents()
            try await context.expectError(.bookingLimitReached, "a move into a full day") {
                _ = try await context.store.reschedule(try context.move(visitor.id, to: 300, rules: today))
            }
            try await context.expectUnchanged(before, "after a move into a full day")
        },
    ]
}
