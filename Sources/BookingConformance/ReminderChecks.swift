import BookingDomain
import BookingTesting
import Foundation

extension ConformanceCheck {
    /// Reminders: written with the booking, made obsolete by a cancel, replaced by a move, delivered once.
    static let reminderChecks: [ConformanceCheck] = [
        ConformanceCheck(
            "cancelRacingAMoveLeavesNoPendingReminder",
            "A cancel and a move of one appointment at once, many times over: whichever comes second, a cancelled appointment keeps no pending reminder (the move's new ones included)."
        ) { context in
            for round in 0..<40 {
                let base = 1500 + round * 240
                let booked = try await context.book(try context.draft(at: base, reminders: [1440, 60]))
                let move = try context.move(booked.id, to: base + 60, reminders: [1440, 60])
                async let cancelled = context.store.cancel(id: booked.id, now: context.now.addingTimeInterval(2))
                async let moved = try? context.store.reschedule(move)
                _ = try await (cancelled, moved)
                let stored = try await context.store.notifications(appointmentID: booked.id)
                let pending = stored.filter { $0.kind == .reminder && $0.status == .pending }
                try context.expect(
                    pending.isEmpty, "round \(round): reminders still pending after the cancel: \(pending)")
            }
        },
        ConformanceCheck(
            "bookingWritesReminders",
            "A booking writes one pending `reminder` per lead (sequence 0), due at the start minus the lead, claimed only once due."
        ) { context in
            let new = try context.draft(at: 2 * 1440, reminders: [1440, 60])
            let booked = try await context.book(new)
            let reminders = try await context.reminders(of: booked.id)
            try context.expectEqual(reminders.map(\.reminderLead), [.minutes(1440), .minutes(60)], "reminder leads")
            try context.expectEqual(
                reminders.map(\.nextAttemptAt),
                [new.slot.start.addingTimeInterval(-86_400), new.slot.start.addingTimeInterval(-3600)], "due times")
            try context.expect(
                reminders.allSatisfy { $0.status == .pending && $0.sequence == 0 && $0.attempts == 0 },
                "pending at sequence 0: \(reminders)")
            try context.expect(
                try await context.store.notifications(appointmentID: booked.id).filter { $0.kind != .reminder }
                    .allSatisfy { $0.reminderLead == nil },
                "only reminders have a lead")
            try context.expectEqual(
                try await context.claim("early/1").map(\.kind), [.booked], "claimed before any reminder is due")
            let due = try await context.claim("due/1", at: new.slot.start.addingTimeInterval(-3600))
            try context.expectEqual(
                due.filter { $0.kind == .reminder }.map(\.reminderLead), [.minutes(1440), .minutes(60)],
                "reminders claimed once due")
        },
        ConformanceCheck(
            "passedReminderIsNotWritten",
            "A reminder whose moment has passed at booking is not written, and a store refuses one (invalid input, nothing written)."
        ) { context in
            let soon = try await context.book(try context.draft(at: 90, reminders: [1440, 60]))
            try context.expectEqual(
                try await context.reminders(of: soon.id).map(\.reminderLead), [.minutes(60)], "reminders 90 min ahead")
            let close = try await context.book(try context.draft(at: 180, reminders: [240]))
            try context.expectEqual(try await context.reminders(of: close.id).count, 0, "reminders 3 h ahead, 4 h lead")
            var late = try context.draft(at: 300)
            late.reminders = [ScheduledReminder(lead: .minutes(300), dueAt: context.now)]
            try await context.expectError(.invalidInput, "a reminder due at the time of the booking") {
                _ = try await context.store.insert(late)
            }
            var wrong = try context.draft(at: 300)
            wrong.reminders = [ScheduledReminder(lead: .minutes(60), dueAt: wrong.slot.start)]
            try await context.expectError(.invalidInput, "a reminder not due at the start minus its lead") {
                _ = try await context.store.insert(wrong)
            }
            try context.expectEqual(try await context.store.appointments().count, 2, "appointments stored")
        },
        ConformanceCheck(
            "cancelMakesRemindersObsoleteAndRaisesSequence",
            "A cancel raises the sequence by one, writes `cancelled` with it, makes pending reminders (leased ones too) obsolete and keeps a sent one sent; none is claimed again."
        ) { context in
            let new = try context.draft(at: 1500, reminders: [1440, 60])
            let booked = try await context.book(new)
            let firstDue = new.slot.start.addingTimeInterval(-86_400)
            try context.expectEqual(
                try await context.claim("all/1", at: firstDue).count, 2, "booked and first reminder")
            let claimed = try await context.store.notifications(appointmentID: booked.id)
            for notification in claimed where notification.leaseOwner != nil {
                let outcome: DeliveryOutcome = .sent(at: firstDue)
                let finished = try await context.store.finish(
                    notification: notification.id, owner: "all/1", outcome: outcome)
                try context.expect(finished, "finish of \(notification.kind)")
            }
            // The 60-minute reminder is leased when the cancel comes.
            let last = new.slot.start.addingTimeInterval(-3600)
            try context.expectEqual(try await context.claim("late/1", at: last).count, 1, "second reminder claimed")
            let cancelledAt = last.addingTimeInterval(1)
            let cancelled = try await context.store.cancel(id: booked.id, now: cancelledAt)
            try context.expectEqual(cancelled?.appointment.sequence, 1, "sequence after the cancel")
            try context.expectEqual(
                try await context.store.cancel(id: booked.id, now: cancelledAt.addingTimeInterval(60))?.appointment
                    .sequence, 1,
                "sequence after a second cancel")
            let stored = try await context.store.notifications(appointmentID: booked.id)
            try context.expectEqual(
                stored.map(\.kind), [.booked, .reminder, .reminder, .cancelled], "notification kinds")
            try context.expectEqual(stored.map(\.sequence), [0, 0, 0, 1], "notification sequences")
            try context.expectEqual(stored.map(\.status), [.sent, .sent, .obsolete, .pending], "notification statuses")
            try context.expect(
                stored[2].leaseOwner == nil && stored[2].updatedAt == cancelledAt, "the obsolete reminder: \(stored[2])"
            )
            try context.expectEqual(
                try await context.claim("after/1", at: new.slot.end).map(\.kind), [.cancelled],
                "claimed after the cancel")
        },
        ConformanceCheck(
            "concurrentBookAndCancelNeverClaimReminders",
            "Bookings with reminders cancelled at once, many at a time beside claimers that see every reminder due: every reminder ends obsolete without a lease (one leased before its cancel too), and none is claimed after the cancels."
        ) { context in
            let count = max(20, context.concurrency / 4)
            // Even tasks book and cancel at once; odd ones claim, a week ahead, so that every reminder written and not
            // yet cancelled is due for them: what they lease, the cancel makes obsolete all the same.
            let results = await context.concurrently(count * 2) {
                index -> Result<[BookingNotification], BookingError> in
                do {
                    if index % 2 == 1 {
                        return .success(
                            try await context.claim("racer/\(index)", at: context.now.addingTimeInterval(7 * 86_400)))
                    }
                    let booked = try await context.book(
                        try context.draft(at: 60 * (index / 2 + 2), reminders: [90, 60]))
                    _ = try await context.store.cancel(id: booked.id, now: context.now)
                    return .success([])
                } catch {
                    return .failure(error as? BookingError ?? .storeUnavailable())
                }
            }
            _ = try results.flatMap { try $0.get() }
            // The racers' leases run a minute from a week ahead: a reminder still pending under one would be left out of
            // this claim, so it comes at the end of those leases.
            let late = try await context.claim(
                "late/1", limit: 100_000, at: context.now.addingTimeInterval(7 * 86_400 + 61))
            try context.expect(!late.contains { $0.kind == .reminder }, "reminders claimed after the cancels")
            let reminders = try await context.store.notifications(appointmentID: nil).filter { $0.kind == .reminder }
            try context.expectEqual(reminders.count, 2 * count, "reminders written")
            try context.expect(
                reminders.allSatisfy { $0.status == .obsolete && $0.leaseOwner == nil },
                "every reminder obsolete, without a lease: \(reminders.filter { $0.status != .obsolete || $0.leaseOwner != nil })"
            )
        },
        ConformanceCheck(
            "remindersFollowAReschedule",
            "A move makes the old slot's pending reminders obsolete and writes the new slot's (the move's sequence, due at the new start minus the lead, none already past); a sent one stays sent."
        ) { context in
            let new = try context.draft(at: 1500, reminders: [1440, 60])
            let booked = try await context.book(new)
            let firstDue = new.slot.start.addingTimeInterval(-86_400)
            let sender = RecordingNotificationSender()
            context.clock.set(to: firstDue)
            try context.expectEqual(try await context.dispatcher(sender).drain().sent, 2, "booked and first reminder")
            let moved = try await context.reschedule(
                try context.move(booked.id, to: 3000, seconds: 3600, reminders: [1440, 60]))
            let target = try context.draft(at: 3000).slot
            var reminders = try await context.reminders(of: booked.id)
            try context.expectEqual(
                reminders.map(\.status), [.sent, .obsolete, .pending, .pending], "statuses after the move")
            try context.expectEqual(reminders.map(\.sequence), [0, 0, 1, 1], "sequences after the move")
            try context.expectEqual(
                reminders.suffix(2).map(\.nextAttemptAt),
                [target.start.addingTimeInterval(-86_400), target.start.addingTimeInterval(-3600)],
                "due times after the move")
            try context.expectEqual(moved.sequence, 1, "sequence of the moved appointment")
            // Moved to 90 minutes after the move: the 24-hour reminder's moment has passed, so it is not written.
            try await context.reschedule(try context.move(booked.id, to: 180, seconds: 5400, reminders: [1440, 60]))
            reminders = try await context.reminders(of: booked.id)
            try context.expectEqual(
                reminders.map(\.status), [.sent, .obsolete, .obsolete, .obsolete, .pending], "statuses after two moves")
            try context.expectEqual(reminders.last?.reminderLead, .minutes(60), "the one reminder for the second move")
            try context.expectEqual(reminders.last?.sequence, 2, "its sequence")
        },
        ConformanceCheck(
            "oneReminderDeliveredPerLead",
            "With the clock past the due times (and before the starts), one dispatcher and then four at once deliver exactly one reminder per (appointment, lead)."
        ) { context in
            // The clock goes past every due time but not past any start: a reminder after its start is obsolete.
            for index in 0..<3 {
                try await context.book(try context.draft(at: 1500 + 10 * index, minutes: 5, reminders: [1440, 60]))
            }
            let sender = RecordingNotificationSender()
            context.clock.advance(by: .seconds(1470 * 60))
            try context.expectEqual(try await context.dispatcher(sender).drain().sent, 9, "sent by one dispatcher")
            let total = 100
            for index in 0..<total {
                try await context.book(
                    try context.draft(
                        try ResourceID.parse("r\(index % 10)"), at: 1600 + 3 * (index / 10), minutes: 2,
                        reminders: [1440, 60]))
            }
            context.clock.advance(by: .seconds(120 * 60))
            let dispatchers = (0..<4).map { context.dispatcher(sender, batchSize: 25, worker: "d\($0)") }
            _ = await context.concurrently(4) { index in try? await dispatchers[index].drain() }
            let reminders = sender.delivered.filter { $0.notification.kind == .reminder }
            try context.expectEqual(reminders.count, 2 * (total + 3), "reminders delivered")
            let keys = Set(
                reminders.map { "\($0.notification.appointmentID)/\($0.notification.reminderLead ?? .zero)" })
            try context.expectEqual(keys.count, 2 * (total + 3), "distinct (appointment, lead) delivered")
            try context.expectEqual(sender.calls.values.filter { $0 > 1 }.count, 0, "notifications sent more than once")
            let stored = try await context.store.notifications(appointmentID: nil)
            try context.expect(stored.allSatisfy { $0.status == .sent }, "every notification stored as sent")
        },
        ConformanceCheck(
            "dispatcherNeverSendsAReminderOfACancelledAppointment",
            "A reminder whose appointment is cancelled after the claim is not sent and ends obsolete; a failed reminder retried after a cancel is recorded obsolete by the dispatcher, guarded by its lease."
        ) { context in
            let new = try context.draft(at: 1500, reminders: [1440])
            let booked = try await context.book(new)
            let sender = RecordingNotificationSender()
            context.clock.set(to: new.slot.start.addingTimeInterval(-86_400))
            let double = CancelAfterClaimStore(inner: context.store, cancelAt: context.clock.now())
            _ = try await context.dispatcher(sender, on: double).drain()
            try context.expect(
                !sender.delivered.contains { $0.notification.kind == .reminder },
                "a reminder of a cancelled appointment was sent")
            try context.expectEqual(try await context.reminders(of: booked.id).map(\.status), [.obsolete], "reminder")
            // A reminder that failed before the cancel, retried after it: the dispatcher records it obsolete.
            let other = try context.draft(at: 1560, reminders: [1440])
            let second = try await context.book(other)
            context.clock.set(to: other.slot.start.addingTimeInterval(-86_400))
            let failing = RecordingNotificationSender { delivery, _ in
                delivery.notification.kind == .reminder ? .permanent("HTTP 410 Gone") : nil
            }
            _ = try await context.dispatcher(failing).drain()
            _ = try await context.store.cancel(id: second.id, now: context.clock.now())
            let failed = try await context.reminders(of: second.id)
            try context.expectEqual(failed.map(\.status), [.failed], "reminder before the retry")
            _ = try await context.store.retryFailedNotification(id: failed[0].id, now: context.clock.now())
            let stranger = try await context.claim("stranger/1", limit: 1, at: context.clock.now(), leaseSeconds: 1)
            try context.expectEqual(
                try await context.store.finish(
                    notification: failed[0].id, owner: "other/1", outcome: .obsolete(now: context.clock.now())),
                false, "an obsolete outcome from a worker without the lease")
            try context.expectEqual(stranger.map(\.id), [failed[0].id], "claimed again after the retry")
            context.clock.advance(by: .seconds(2))
            let report = try await context.dispatcher(sender).drain()
            try context.expectEqual(report.obsolete, 1, "recorded obsolete by the dispatcher")
            try context.expect(
                !sender.delivered.contains { $0.notification.kind == .reminder }, "a retried reminder was sent")
            let stored = try await context.reminders(of: second.id)
            try context.expectEqual(stored.map(\.status), [.obsolete], "retried reminder after the dispatcher")
            try context.expectEqual(stored.first?.leaseOwner, nil, "lease after the dispatcher")
        },
    ]
}

extension CheckContext {
    /// The appointment's reminders, by id.
    fileprivate func reminders(of id: Int64) async throws -> [BookingNotification] {
        try await store.notifications(appointmentID: id).filter { $0.kind == .reminder }
    }
}
