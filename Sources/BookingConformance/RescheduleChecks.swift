import BookingDomain
import Foundation

extension ConformanceCheck {
    /// Reschedules: one atomic move of the same appointment, its overlap rules, keys and notifications.
    static let rescheduleChecks: [ConformanceCheck] = [
        ConformanceCheck(
            "concurrentMovesOfOneAppointment",
            "Concurrent moves of one appointment (50, no key), each to a slot of its own: every one moves it in turn, so its sequence ends at 50, with one `rescheduled` notification for each of the sequences 1 to 50 (none lost to another move's stale read), and it holds exactly one slot."
        ) { context in
            let booked = try await context.book(try context.draft(at: 60))
            let moves = try (0..<50).map { index in try context.move(booked.id, to: 120 + 30 * index) }
            let outcomes = await context.concurrently(moves.count) {
                await CheckContext.attempt(context.store, moves[$0])
            }
            try context.expectWinners(outcomes, moves.count, losersGet: [])
            let moved = try await context.store.record(id: booked.id)?.appointment
            try context.expectEqual(moved?.sequence, moves.count, "sequence after the moves")
            let notifications = try await context.store.notifications(appointmentID: booked.id)
                .filter { $0.kind == .rescheduled }
            try context.expectEqual(
                notifications.map(\.sequence).sorted(), Array(1...moves.count),
                "sequences of the rescheduled notifications")
            let everywhere = try TimeSlot(start: context.now, end: context.now.addingTimeInterval(48 * 3600))
            try context.expectEqual(
                try await context.occupiedIntervals(overlapping: everywhere), moved.map { [$0.occupied] } ?? [],
                "slots the appointment holds")
        },
        ConformanceCheck(
            "rescheduleMovesTheAppointment",
            "A move keeps the id and token, raises the sequence by one, frees the old slot, takes the new one, and writes one `rescheduled` notification with the previous slot."
        ) { context in
            let booked = try await context.book(try context.draft(at: 60))
            let before = try await context.store.record(id: booked.id)
            let move = try context.move(booked.id, to: 120, seconds: 5)
            let moved = try await context.reschedule(move)
            try context.expectEqual(moved.id, booked.id, "id after the move")
            try context.expectEqual(moved.slot, move.slot, "slot after the move")
            try context.expectEqual(moved.occupied, move.occupied, "occupied interval after the move")
            try context.expectEqual(moved.sequence, 1, "sequence after one move")
            try context.expectEqual(moved.status, .booked, "status after the move")
            try context.expectEqual(moved.createdAt, booked.createdAt, "created_at after the move")
            try context.expectEqual(moved.updatedAt, move.now, "updated_at after the move")
            let read = try await context.store.record(id: booked.id)
            try context.expectEqual(read?.appointment, moved, "record(id:) after the move")
            try context.expectEqual(read?.cancelTokenHash, before?.cancelTokenHash, "cancel token hash after the move")
            let notifications = try await context.store.notifications(appointmentID: booked.id)
            try context.expectEqual(notifications.map(\.kind), [.booked, .rescheduled], "notification kinds")
            try context.expectEqual(notifications.map(\.sequence), [0, 1], "notification sequences")
            try context.expectEqual(notifications.last?.previousSlot, booked.slot, "previous slot of the move")
            try context.expectEqual(notifications.first?.previousSlot, nil, "previous slot of the booking")
            try context.expectEqual(notifications.last?.status, .pending, "status of the rescheduled notification")
            try context.expectEqual(
                notifications.last?.nextAttemptAt, move.now, "due time of the rescheduled notification")
            let window = try TimeSlot(start: context.now, end: context.now.addingTimeInterval(86_400))
            try context.expectEqual(
                try await context.occupiedIntervals(overlapping: window), [moved.occupied],
                "booked intervals after the move")
            try await context.book(try context.draft(at: 60))
            try await context.expectError(.slotUnavailable, "a booking of the new slot") {
                _ = try await context.store.insert(try context.draft(at: 120))
            }
        },
        ConformanceCheck(
            "rescheduleMayOverlapItsOwnInterval",
            "A move may overlap the appointment's own old occupied interval (buffers included), never another's; touching is allowed."
        ) { context in
            let booked = try await context.book(try context.draft(at: 60, buffer: 15))
            // 60-90 widened to 45-105 moves to 90-120 widened to 75-135: only its own interval is in the way.
            let moved = try await context.reschedule(try context.move(booked.id, to: 90, buffer: 15))
            try context.expectEqual(moved.occupied, try context.draft(at: 90, buffer: 15).occupied, "occupied interval")
            // 180-210 widened to 165-225: a move to 120-150 (105-165) touches it, a move to 135-165 (120-180) overlaps.
            try await context.book(try context.draft(at: 180, buffer: 15))
            try await context.expectError(.slotUnavailable, "a move overlapping another's buffer") {
                _ = try await context.store.reschedule(try context.move(booked.id, to: 135, buffer: 15, seconds: 2))
            }
            let touching = try await context.reschedule(try context.move(booked.id, to: 120, buffer: 15, seconds: 3))
            try context.expectEqual(touching.sequence, 2, "sequence after two moves")
        },
        ConformanceCheck(
            "refusedRescheduleChangesNothing",
            "A move onto another booked interval (equal or overlapping) is `slotUnavailable` and changes no appointment, notification or key."
        ) { context in
            let first = try await context.book(try context.draft(at: 60))
            let second = try await context.book(try context.draft(at: 120))
            let before = try await context.contents()
            let refused = [
                ("a move onto a booked slot", try context.move(first.id, to: 120, key: "refused")),
                ("a move onto an overlapping interval", try context.move(first.id, to: 105)),
                ("a move around a booked interval", try context.move(second.id, to: 30, minutes: 120)),
            ]
            for (what, move) in refused {
                try await context.expectError(.slotUnavailable, what) { _ = try await context.store.reschedule(move) }
                try await context.expectUnchanged(before, "after refused moves (\(what))")
            }
            try context.expectEqual(
                try await context.store.rescheduleRecord(idempotencyKey: "refused"), nil, "key of a refused move")
            try await context.expectError(.invalidInput, "an occupied interval not containing the slot") {
                var inverted = try context.move(first.id, to: 200)
                inverted.occupied = try TimeSlot(
                    start: inverted.slot.start.addingTimeInterval(600), end: inverted.slot.end.addingTimeInterval(600))
                _ = try await context.store.reschedule(inverted)
            }
        },
        ConformanceCheck(
            "rescheduleOfCancelledAppointment",
            "A cancelled appointment cannot be moved: `appointmentCancelled`, nothing written."
        ) { context in
            let booked = try await context.book(try context.draft(at: 60))
            let cancelled = try await context.store.cancel(id: booked.id, now: context.now)?.appointment
            try await context.expectError(.appointmentCancelled, "a move of a cancelled appointment") {
                _ = try await context.store.reschedule(try context.move(booked.id, to: 120, key: "cancelled"))
            }
            try context.expectEqual(
                try await context.store.record(id: booked.id)?.appointment, cancelled, "appointment")
            try context.expectEqual(
                try await context.store.notifications(appointmentID: booked.id).map(\.kind), [.booked, .cancelled],
                "notifications")
            try context.expectEqual(
                try await context.store.rescheduleRecord(idempotencyKey: "cancelled"), nil, "key of a refused move")
        },
        ConformanceCheck(
            "rescheduleOfUnknownAppointment",
            "Moving an unknown id returns nil and writes nothing."
        ) { context in
            try context.expectEqual(
                try await context.store.reschedule(try context.move(424_242, to: 60, key: "unknown")), nil,
                "a move of an unknown id")
            try context.expectEqual(try await context.store.notifications(appointmentID: nil).count, 0, "notifications")
            try context.expectEqual(
                try await context.store.rescheduleRecord(idempotencyKey: "unknown"), nil, "key of an unknown id")
        },
        ConformanceCheck(
            "rescheduleToItsOwnSlotChangesNothing",
            "A move to the slot the appointment already holds is `unchanged`: no sequence, no notification; its key is kept."
        ) { context in
            let booked = try await context.book(try context.draft(at: 60))
            let outcome = try await context.store.reschedule(try context.move(booked.id, to: 60, key: "same-slot"))
            try context.expectEqual(outcome, .unchanged(booked), "outcome of a move to the same slot")
            try context.expectEqual(try await context.store.notifications(appointmentID: nil).count, 1, "notifications")
            try context.expectEqual(
                try await context.store.rescheduleRecord(idempotencyKey: "same-slot")?.appointment, booked,
                "key of a move to the same slot")
        },
        ConformanceCheck(
            "stayingPutNeverMovesIntoAnUnofferedSlot",
            "A move marked `onlyIfAlreadyThere` is `unchanged` while the appointment holds the slot, and `slotNotOffered` with nothing changed once a concurrent move took it elsewhere."
        ) { context in
            let booked = try await context.book(try context.draft(at: 60))
            var stay = try context.move(booked.id, to: 60, key: "stay")
            stay.onlyIfAlreadyThere = true
            try context.expectEqual(try await context.store.reschedule(stay), .unchanged(booked), "staying put")
            let moved = try await context.reschedule(try context.move(booked.id, to: 120))
            let before = try await context.contents()
            var back = try context.move(booked.id, to: 60, key: "back")
            back.onlyIfAlreadyThere = true
            try await context.expectError(.slotNotOffered, "a flagged move back into the slot it left") {
                _ = try await context.store.reschedule(back)
            }
            try context.expectEqual(
                try await context.store.record(id: booked.id)?.appointment, moved, "the appointment after the refusal")
            try await context.expectUnchanged(before, "after the refusal")
            try context.expect(
                try await context.store.rescheduleRecord(idempotencyKey: "back") == nil, "no key kept for the refusal")
        },
        ConformanceCheck(
            "concurrentReschedulesIntoOneSlot",
            "Concurrent (the suite's concurrency, 200 by default) moves of different appointments into one free slot: exactly one succeeds, the rest get `slotUnavailable`."
        ) { context in
            let moves = try await context.movesIntoTheFirstSlot(context.concurrency)
            let outcomes = await context.concurrently(moves.count) { index in
                await CheckContext.attempt(context.store, moves[index])
            }
            try context.expectConcurrentWinner(outcomes)
            try await context.expectOneMoveInto(try context.draft(at: 0).occupied)
        },
        ConformanceCheck(
            "reschedulesAndBookingsRaceForOneSlot",
            "Concurrent moves into a free slot and bookings of it (the suite's concurrency in all): exactly one wins."
        ) { context in
            let movers = context.concurrency / 2
            let moves = try await context.movesIntoTheFirstSlot(movers)
            let booking = try context.draft(at: 0)
            let outcomes = await context.concurrently(context.concurrency) { index in
                if index < movers { return await CheckContext.attempt(context.store, moves[index]) }
                return await CheckContext.attempt(context.store, booking)
            }
            try context.expectConcurrentWinner(outcomes)
            let window = try TimeSlot(start: context.now, end: context.now.addingTimeInterval(30 * 60))
            try context.expectEqual(
                try await context.occupiedIntervals(overlapping: window), [booking.occupied],
                "booked intervals in the raced slot")
        },
        ConformanceCheck(
            "concurrentIdempotentReschedules",
            "Concurrent (the suite's concurrency, 200 by default) moves with one idempotency key: one move (sequence +1 once, one `rescheduled` notification), every caller gets it."
        ) { context in
            let booked = try await context.book(try context.draft(at: 60))
            let move = try context.move(booked.id, to: 120, key: "move-key")
            let outcomes = await context.concurrently(context.concurrency) {
                _ -> Result<RescheduleOutcome?, BookingError> in
                do throws(BookingError) {
                    return .success(try await context.store.reschedule(move))
                } catch { return .failure(error) }
            }
            var moved = 0
            for result in outcomes {
                guard case .success(let outcome) = result else {
                    throw context.failure("a move with the key failed: \(result)")
                }
                switch outcome {
                case .moved?: moved += 1
                case .existing(let record)?:
                    try context.expectEqual(
                        record.requestFingerprint, move.requestFingerprint, "fingerprint of the key")
                    try context.expectEqual(record.appointment.id, booked.id, "appointment of the key")
                default: throw context.failure("a move with the key answered \(String(describing: outcome))")
                }
            }
            try context.expectEqual(moved, 1, "moves that moved")
            try context.expectEqual(try await context.store.record(id: booked.id)?.appointment.sequence, 1, "sequence")
            try context.expectEqual(
                try await context.store.notifications(appointmentID: booked.id).map(\.kind), [.booked, .rescheduled],
                "notifications")
            try context.expectEqual(
                try await context.store.rescheduleRecord(idempotencyKey: "move-key")?.appointment.slot, move.slot,
                "rescheduleRecord(idempotencyKey:)")
        },
        ConformanceCheck(
            "rescheduleKeysAreApartFromBookingKeys",
            "A reschedule key and a booking key with the same text never meet: each names its own request."
        ) { context in
            let booked = try await context.book(try context.draft(at: 60, key: "shared"))
            let outcome = try await context.store.reschedule(try context.move(booked.id, to: 120, key: "shared"))
            guard case .moved? = outcome else {
                throw context.failure("a move with a key a booking used answered \(String(describing: outcome))")
            }
            try context.expectEqual(
                try await context.store.record(idempotencyKey: "shared")?.appointment.id, booked.id, "the booking key")
            try context.expectEqual(
                try await context.store.rescheduleRecord(idempotencyKey: "shared")?.requestFingerprint,
                try context.move(booked.id, to: 120).requestFingerprint, "the reschedule key")
            let second = try await context.store.insert(try context.draft(at: 60, key: "shared"))
            guard case .existing(let existing) = second else {
                throw context.failure("a replayed booking key booked again")
            }
            try context.expectEqual(existing.appointment.id, booked.id, "the booking key's appointment")
        },
        ConformanceCheck(
            "oneNotificationPerSequence",
            "Exactly one notification per (appointment, kind, sequence): two moves give `rescheduled` 1 and 2, and cancels after them one `cancelled` at sequence 3."
        ) { context in
            let booked = try await context.book(try context.draft(at: 60))
            try await context.reschedule(try context.move(booked.id, to: 120, seconds: 1))
            try await context.reschedule(try context.move(booked.id, to: 180, seconds: 2))
            let at = context.now.addingTimeInterval(3)
            let results = await context.concurrently(context.concurrency) { _ in
                try? await context.store.cancel(id: booked.id, now: at)?.appointment
            }
            try context.expect(
                results.allSatisfy { $0?.status == .cancelled && $0?.sequence == 3 },
                "every cancel gets the cancelled appointment at sequence 3 (the cancel raises it once)")
            let notifications = try await context.store.notifications(appointmentID: booked.id)
            try context.expectEqual(
                notifications.map(\.kind), [.booked, .rescheduled, .rescheduled, .cancelled], "notification kinds")
            try context.expectEqual(notifications.map(\.sequence), [0, 1, 2, 3], "notification sequences")
            try context.expectEqual(
                notifications.map(\.previousSlot),
                [nil, try context.draft(at: 60).slot, try context.draft(at: 120).slot, nil], "previous slots")
        },
        ConformanceCheck(
            "rescheduleSurvivesReopen",
            "A move, its notification and its key survive close and reopen (needs ``BookingConformance/Capabilities/reopen``).",
            requires: .reopen
        ) { context in
            guard let reopen = context.subject.reopen else { throw context.failure("no reopen given") }
            let booked = try await context.book(try context.draft(at: 60))
            let moved = try await context.reschedule(try context.move(booked.id, to: 120, key: "durable-move"))
            let notifications = try await context.store.notifications(appointmentID: nil)
            let reopened = try await reopen()
            try context.expectEqual(
                try await reopened.record(id: booked.id)?.appointment, moved, "appointment after reopen")
            try context.expectEqual(
                try await reopened.notifications(appointmentID: nil), notifications, "notifications after reopen")
            try context.expectEqual(
                try await reopened.rescheduleRecord(idempotencyKey: "durable-move")?.appointment, moved,
                "reschedule key after reopen")
        },
    ]
}

extension CheckContext {
    /// Books `count` appointments at minutes 60, 90, 120, ... and returns a move of each into the free
    /// slot at minute 0.
    func movesIntoTheFirstSlot(_ count: Int) async throws -> [AppointmentMove] {
        var moves: [AppointmentMove] = []
        for index in 0..<count {
            let booked = try await book(try draft(at: 60 + 30 * index))
            moves.append(try move(booked.id, to: 0))
        }
        return moves
    }

    /// One move, as a result: the concurrency checks collect them.
    static func attempt(_ store: any BookingStore, _ move: AppointmentMove) async -> Result<Int64, BookingError> {
        do {
            guard case .moved(let appointment)? = try await store.reschedule(move) else {
                return .failure(.storeUnavailable("the move did not move"))
            }
            return .success(appointment.id)
        } catch {
            return .failure(error)
        }
    }

    /// Exactly one appointment holds `interval`, and one `rescheduled` notification was written.
    func expectOneMoveInto(_ interval: TimeSlot) async throws {
        try expectEqual(
            try await occupiedIntervals(overlapping: interval), [interval],
            "booked intervals in the target slot")
        let moves = try await store.notifications(appointmentID: nil).filter { $0.kind == .rescheduled }
        try expectEqual(moves.count, 1, "rescheduled notifications")
    }
}
