import BookingDomain
import Foundation

extension ConformanceCheck {
    /// Slot holds: exclusive, lapsing at their time to the millisecond, used by one booking (invariant 12).
    static let holdChecks: [ConformanceCheck] = [
        ConformanceCheck(
            "occupantsOfABusyWindow",
            "A window holding 200 consecutive bookings and two holds reads back every one in order (by occupied start), each hold with its expiry, and leaves out the hold that lapsed by the read's `now`."
        ) { context in
            let drafts = try (0..<200).map { index in
                try context.draft(at: 60 + 5 * index, minutes: 5, email: "busy-\(index)@example.com")
            }
            for draft in drafts { try await context.book(draft) }
            let holds = [
                try context.hold("busy-short", at: 60 + 5 * 200, minutes: 5, lasting: 30),
                try context.hold("busy-long", at: 60 + 5 * 201, minutes: 5, lasting: 600),
            ]
            for hold in holds { try await context.store.placeHold(hold) }
            let window = try TimeSlot(start: drafts[0].slot.start, end: holds[1].slot.end)
            let booked = drafts.map { SlotOccupant(slot: $0.slot, occupied: $0.occupied) }
            let held = holds.map { SlotOccupant(slot: $0.slot, occupied: $0.occupied, holdExpiresAt: $0.expiresAt) }
            try context.expectEqual(
                try await context.store.occupants(resource: .default, overlapping: window, now: context.now),
                booked + held, "occupants of the busy window")
            try context.expectEqual(
                try await context.store.occupants(
                    resource: .default, overlapping: window, now: context.now.addingTimeInterval(60)),
                booked + [held[1]], "occupants of the busy window once the short hold lapsed")
        },
        ConformanceCheck(
            "concurrentHoldsOfOneSlot",
            "Concurrent (the suite's concurrency, 200 by default) holds of one slot: exactly one succeeds, the rest get `slotHeld` with the winner's expiry."
        ) { context in
            let holds = try (0..<context.concurrency).map { try context.hold("token-\($0)", at: 60) }
            let outcomes = await context.concurrently(holds.count) {
                await CheckContext.attempt(context.store, holds[$0])
            }
            try context.expectWinners(outcomes, 1, losersGet: [.slotHeld])
            let expiry = holds[0].expiresAt
            for case .failure(let error) in outcomes {
                try context.expectEqual(error.availableAt, expiry, "availableAt of a refused hold")
            }
            let window = holds[0].occupied
            try context.expectEqual(
                try await context.store.occupants(resource: .default, overlapping: window, now: context.now),
                [SlotOccupant(slot: holds[0].slot, occupied: window, holdExpiresAt: expiry)],
                "occupants of the held slot")
        },
        ConformanceCheck(
            "concurrentHoldsOfASlotWithSeats",
            "Capacity 5, concurrent (the suite's concurrency, 200 by default, at least 10) holds of one slot: exactly 5 succeed, one a seat, the rest get `slotHeld`; bookings without a token are then `slotHeld` too."
        ) { context in
            let rules = BookingRules(capacity: 5)
            let holds = try (0..<max(10, context.concurrency)).map {
                try context.hold("token-\($0)", at: 60, rules: rules)
            }
            let outcomes = await context.concurrently(holds.count) {
                await CheckContext.attempt(context.store, holds[$0])
            }
            try context.expectWinners(outcomes, 5, losersGet: [.slotHeld])
            try context.expectEqual(
                try await context.store.occupants(resource: .default, overlapping: holds[0].occupied, now: context.now)
                    .count, 5, "occupants of the held slot")
            try await context.expectError(.slotHeld, "a booking of a slot whose seats are all held") {
                _ = try await context.store.insert(try context.draft(at: 60, email: "late@example.com", rules: rules))
            }
        },
        ConformanceCheck(
            "concurrentBookingsWithOneHold",
            "Capacity 5 and one hold: concurrent (the suite's concurrency, 200 by default) bookings carrying its token, each a different customer: exactly one books (the hold used up), the rest get `holdExpired`, and the slot keeps its 4 other seats."
        ) { context in
            let rules = BookingRules(capacity: 5)
            try await context.store.placeHold(try context.hold("shared", at: 60, rules: rules))
            let drafts = try (0..<context.concurrency).map { index in
                try context.draft(at: 60, email: "\(index)@example.com", rules: rules, holdToken: "shared")
            }
            let outcomes = await context.concurrently(drafts.count) {
                await CheckContext.attempt(context.store, drafts[$0])
            }
            try context.expectWinners(outcomes, 1, losersGet: [.holdExpired])
            try context.expectEqual(try await context.bookedAppointments().count, 1, "bookings made with the token")
            try context.expectEqual(
                try await context.store.occupants(resource: .default, overlapping: drafts[0].occupied, now: context.now)
                    .count, 1, "occupants of the slot: the booking, the hold gone")
        },
        ConformanceCheck(
            "holdsKeepToTheirResource",
            "A hold takes its slot on its own resource only: the same slot of another resource books, a booking of its resource without the token is `slotHeld`, and its token on another resource's booking is `invalidInput` and changes nothing."
        ) { context in
            let room: ResourceID = "room-b"
            try await context.store.placeHold(try context.hold("room", at: 60, resource: room))
            try await context.book(try context.draft(at: 60, email: "default@example.com"))
            try await context.expectError(.slotHeld, "a booking of the held slot of the hold's resource") {
                _ = try await context.store.insert(try context.draft(room, at: 60, email: "b@example.com"))
            }
            let before = try await context.contents()
            try await context.expectError(.invalidInput, "the token on a booking of another resource") {
                _ = try await context.store.insert(
                    try context.draft(
                        at: 60, email: "c@example.com", rules: BookingRules(capacity: 2), holdToken: "room")
                )
            }
            try await context.expectUnchanged(before, "after a token used on another resource")
            try await context.book(try context.draft(room, at: 60, email: "b@example.com", holdToken: "room"))
        },
        ConformanceCheck(
            "holdLapsesAtItsExpiryToTheMillisecond",
            "A hold takes its slot until one millisecond before its expiry (`slotHeld` with `availableAt` = the expiry, listed by occupants) and nothing from its expiry on: then a booking without its token takes the slot."
        ) { context in
            let hold = try context.hold("token", at: 60, lasting: 300)
            let placed = try await context.store.placeHold(hold)
            try context.expectEqual(placed.expiresAt, hold.expiresAt, "expiry of the hold")
            try context.expectEqual(placed.slot, hold.slot, "slot of the hold")
            let justBefore = hold.expiresAt.addingTimeInterval(-0.001)
            var early = try context.draft(at: 60, email: "b@example.com")
            early.now = justBefore
            do {
                _ = try await context.store.insert(early)
                throw context.failure("a booking 1 ms before the hold lapses succeeded")
            } catch let error as BookingError {
                try context.expectEqual(error.code, .slotHeld, "booking 1 ms before the expiry")
                try context.expectEqual(error.availableAt, hold.expiresAt, "availableAt")
            }
            try context.expectEqual(
                try await context.occupiedIntervals(overlapping: hold.occupied, at: justBefore), [hold.occupied],
                "occupants 1 ms before the expiry")
            try context.expectEqual(
                try await context.occupiedIntervals(overlapping: hold.occupied, at: hold.expiresAt), [],
                "occupants at the expiry")
            var onTime = early
            onTime.now = hold.expiresAt
            try await context.book(onTime)
        },
        ConformanceCheck(
            "bookingUsesItsHold",
            "A booking with its hold's token takes the held slot and ends the hold; the token then books nothing (`holdExpired`), a token of another slot is `invalidInput`, an unknown or lapsed one `holdExpired`, each changing nothing; a replay of the booking's idempotency key still returns it."
        ) { context in
            try await context.store.placeHold(try context.hold("mine", at: 60))
            try await context.store.placeHold(try context.hold("other-slot", at: 120))
            let before = try await context.contents()
            try await context.expectError(.holdExpired, "an unknown token") {
                _ = try await context.store.insert(try context.draft(at: 60, holdToken: "nobody's"))
            }
            try await context.expectError(.invalidInput, "the token of another slot") {
                _ = try await context.store.insert(try context.draft(at: 60, holdToken: "other-slot"))
            }
            try await context.expectUnchanged(before, "after refused tokens")
            let booked = try await context.book(try context.draft(at: 60, key: "key", holdToken: "mine"))
            try context.expectEqual(
                try await context.store.occupants(resource: .default, overlapping: booked.occupied, now: context.now),
                [SlotOccupant(slot: booked.slot, occupied: booked.occupied)], "occupants after the hold was used")
            guard
                case .existing(let replayed) = try await context.store.insert(
                    try context.draft(at: 60, key: "key", holdToken: "mine"))
            else { throw context.failure("a replay of the key after its hold was used did not return the booking") }
            try context.expectEqual(replayed.appointment.id, booked.id, "replayed appointment")
            let afterBooking = try await context.contents()
            try await context.expectError(.holdExpired, "a used token") {
                _ = try await context.store.insert(try context.draft(at: 60, email: "b@example.com", holdToken: "mine"))
            }
            var late = try context.draft(at: 120, email: "b@example.com", holdToken: "other-slot")
            late.now = context.now.addingTimeInterval(300)
            try await context.expectError(.holdExpired, "a lapsed token") { _ = try await context.store.insert(late) }
            try await context.expectUnchanged(afterBooking, "after a used and a lapsed token")
            try context.expectEqual(
                try await context.store.releaseHold(tokenHash: CheckContext.tokenHash("mine"), now: context.now), false,
                "release of a used hold")
        },
        ConformanceCheck(
            "holdsAndBookingsRaceForOneSlot",
            "Concurrent holds and bookings of one slot, holds and bookings of two overlapping slots, and holds of two overlapping slots: each time exactly one wins."
        ) { context in
            let count = context.concurrency
            let holds = try (0..<count).map { try context.hold("token-\($0)", at: 60) }
            let bookings = try (0..<count).map { try context.draft(at: 60, email: "\($0)@example.com") }
            let outcomes = await context.concurrently(2 * count) { index in
                if index % 2 == 0 {
                    return await CheckContext.attempt(context.store, holds[index / 2]).map { _ in Int64(0) }
                }
                return await CheckContext.attempt(context.store, bookings[index / 2])
            }
            try context.expectWinners(outcomes, 1, losersGet: [.slotHeld, .slotUnavailable])
            let overlappingHolds = try (0..<count).map { try context.hold("late-\($0)", at: 300, buffer: 10) }
            let overlappingBookings = try (0..<count).map { try context.draft(at: 320, email: "\($0)@example.com") }
            let raced = await context.concurrently(2 * count) { index in
                if index % 2 == 0 {
                    return await CheckContext.attempt(context.store, overlappingHolds[index / 2]).map { _ in Int64(0) }
                }
                return await CheckContext.attempt(context.store, overlappingBookings[index / 2])
            }
            try context.expectWinners(raced, 1, losersGet: [.slotHeld, .slotUnavailable])
            let rivalHolds = try (0..<count).map { index in
                try context.hold("rival-\(index)", at: index % 2 == 0 ? 600 : 615)
            }
            let rivals = await context.concurrently(count) { await CheckContext.attempt(context.store, rivalHolds[$0]) }
            try context.expectWinners(rivals, 1, losersGet: [.slotHeld])
        },
        ConformanceCheck(
            "holdTakesOneSeat",
            "With capacity 2, one booked seat and a live hold fill the slot: a booking without the token is `slotHeld`, with it books. Holds count against a day's limit: when they fill it, bookings and holds of the day are `slotHeld` until the soonest lapses, a booking with one of them books, and bookings alone reaching the limit are `bookingLimitReached`."
        ) { context in
            let rules = BookingRules(capacity: 2)
            try await context.book(try context.draft(at: 60, email: "a@example.com", rules: rules))
            try await context.store.placeHold(try context.hold("seat", at: 60, rules: rules))
            try await context.expectError(.slotHeld, "a booking of the held last seat") {
                _ = try await context.store.insert(try context.draft(at: 60, email: "b@example.com", rules: rules))
            }
            try await context.expectError(.slotHeld, "a hold of the held last seat") {
                _ = try await context.store.placeHold(try context.hold("another", at: 60, rules: rules))
            }
            try await context.book(try context.draft(at: 60, email: "c@example.com", rules: rules, holdToken: "seat"))
            try context.expectEqual(try await context.bookedAppointments().count, 2, "booked seats")
            // The day has 2 bookings (the seats at 60) and a limit of 4: two holds fill it.
            let day = BookingRules(capacity: 1, periodLimits: [try context.limit(.day, 4, from: 0, hours: 24)])
            let soon = try context.hold("day-soon", at: 300, lasting: 120, rules: day)
            try await context.store.placeHold(soon)
            try await context.store.placeHold(try context.hold("day-late", at: 360, lasting: 240, rules: day))
            let before = try await context.contents()
            for attempt in [
                { _ = try await context.store.insert(try context.draft(at: 400, email: "d@example.com", rules: day)) },
                { _ = try await context.store.placeHold(try context.hold("day-3", at: 400, rules: day)) },
            ] as [@Sendable () async throws -> Void] {
                do {
                    try await attempt()
                    throw context.failure("a booking or hold of a day its holds fill succeeded")
                } catch let error as BookingError {
                    try context.expectEqual(error.code, .slotHeld, "taking a place in a day its holds fill")
                    try context.expectEqual(error.availableAt, soon.expiresAt, "when the day's soonest hold lapses")
                }
            }
            try await context.expectUnchanged(before, "after refusals in a day its holds fill")
            try await context.book(
                try context.draft(at: 300, email: "d@example.com", rules: day, holdToken: "day-soon"))
            try await context.book(
                try context.draft(at: 360, email: "e@example.com", rules: day, holdToken: "day-late"))
            try await context.expectError(.bookingLimitReached, "a booking of a day its bookings fill") {
                _ = try await context.store.insert(try context.draft(at: 400, email: "f@example.com", rules: day))
            }
        },
        ConformanceCheck(
            "releaseAndMovesRespectHolds",
            "Releasing a live hold frees its slot at once (once: a second release answers false, as does a lapsed hold's); a move into a held slot is `slotHeld` and changes nothing."
        ) { context in
            try await context.store.placeHold(try context.hold("held", at: 60))
            let mover = try await context.book(try context.draft(at: 120))
            let before = try await context.contents()
            try await context.expectError(.slotHeld, "a move into a held slot") {
                _ = try await context.store.reschedule(try context.move(mover.id, to: 60))
            }
            try await context.expectUnchanged(before, "after a move into a held slot")
            let hash = CheckContext.tokenHash("held")
            try context.expectEqual(
                try await context.store.releaseHold(tokenHash: hash, now: context.now), true, "release")
            try context.expectEqual(
                try await context.store.releaseHold(tokenHash: hash, now: context.now), false, "second release")
            try await context.reschedule(try context.move(mover.id, to: 60))
            try await context.store.placeHold(try context.hold("lapsing", at: 200, lasting: 60))
            try context.expectEqual(
                try await context.store.releaseHold(
                    tokenHash: CheckContext.tokenHash("lapsing"), now: context.now.addingTimeInterval(60)),
                false, "release of a lapsed hold")
        },
    ]
}
