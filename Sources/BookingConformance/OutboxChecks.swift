import BookingDomain
import Foundation

extension ConformanceCheck {
    /// The outbox: claims, leases, retries and final states.
    static let outboxChecks: [ConformanceCheck] = [
        ConformanceCheck(
            "concurrentClaimsNeverShare",
            "Concurrent claimers never receive the same notification while its lease holds."
        ) { context in
            for index in 0..<60 {
                try await context.book(
                    try context.draft(try ResourceID.parse("r\(index % 6)"), at: 60 * (index / 6 + 1)))
            }
            let batches = await context.concurrently(12) { worker in
                (try? await context.store.claimNotifications(
                    NotificationClaim(
                        owner: "worker-\(worker)", limit: 7, now: context.now,
                        leaseExpiresAt: context.now.addingTimeInterval(60)))) ?? []
            }
            let claimed = batches.flatMap { $0 }
            try context.expectEqual(claimed.count, 60, "notifications claimed by 12 workers of 7")
            try context.expectEqual(Set(claimed.map(\.id)).count, 60, "distinct notifications claimed")
            try context.expect(batches.allSatisfy { $0.count <= 7 }, "a context.claim never exceeds its limit")
            try context.expect(
                claimed.allSatisfy { $0.attempts == 1 && $0.leaseOwner != nil },
                "claimed notifications carry the lease and one attempt")
            try context.expectEqual(try await context.claim("late-worker").count, 0, "claims while every lease holds")
            let stored = try await context.store.notifications(appointmentID: nil)
            try context.expect(
                stored.allSatisfy { $0.leaseExpiresAt == context.now.addingTimeInterval(60) }, "stored lease expiry")
        },
        ConformanceCheck(
            "expiredLeaseIsTakenOver",
            "An expired lease can be claimed again, and the old owner can no longer finish it."
        ) { context in
            let booked = try await context.book(try context.draft(at: 60))
            let first = try await context.claim("first", leaseSeconds: 30)
            try context.expectEqual(first.map(\.appointmentID), [booked.id], "first claim")
            try context.expectEqual(
                try await context.claim("second", at: context.now.addingTimeInterval(29)).count, 0,
                "claim before the lease expires")
            let second = try await context.claim("second", at: context.now.addingTimeInterval(30))
            try context.expectEqual(second.map(\.id), first.map(\.id), "claim after the lease expired")
            try context.expectEqual(second.first?.attempts, 2, "attempts after the takeover")
            let id = first[0].id
            let stale = try await context.store.finish(
                notification: id, owner: "first", outcome: .sent(at: context.now.addingTimeInterval(31)))
            try context.expect(!stale, "the stale owner's finish must be refused")
            try context.expectEqual(
                try await context.store.notifications(appointmentID: nil).first?.status, .pending,
                "status after a refused finish")
            let current = try await context.store.finish(
                notification: id, owner: "second", outcome: .sent(at: context.now.addingTimeInterval(32)))
            try context.expect(current, "the current owner's finish must be accepted")
            let sent = try await context.store.notifications(appointmentID: nil).first
            try context.expectEqual(sent?.status, .sent, "status after finish")
            try context.expectEqual(sent?.sentAt, context.now.addingTimeInterval(32), "sent_at")
            try context.expectEqual(sent?.leaseOwner, nil, "lease after finish")
            let late = try await context.store.finish(
                notification: id, owner: "first",
                outcome: .failed(error: "late", now: context.now.addingTimeInterval(33)))
            try context.expect(!late, "a late context.failure must not overwrite sent")
            try context.expectEqual(
                try await context.store.notifications(appointmentID: nil).first?.status, .sent,
                "status after a late failure")
        },
        ConformanceCheck(
            "leaseRenewalIsGuardedByOwner",
            "Renewing extends only the leases the owner still holds: never another owner's, one taken over, or a finished one."
        ) { context in
            for offset in [60, 120, 180] { try await context.book(try context.draft(at: offset)) }
            let mine = try await context.claim("a/1", limit: 2, leaseSeconds: 30).map(\.id)
            let theirs = try await context.claim("b/1", limit: 1, leaseSeconds: 30).map(\.id)
            try context.expectEqual(mine.count, 2, "notifications claimed by a/1")
            try context.expectEqual(theirs.count, 1, "notifications claimed by b/1")
            func renew(_ ids: [Int64], _ owner: String, at seconds: Double, until: Double) async throws -> Set<Int64> {
                try await context.store.renewLeases(
                    of: ids, owner: owner, now: context.now.addingTimeInterval(seconds),
                    leaseExpiresAt: context.now.addingTimeInterval(until))
            }
            let everything = mine + theirs + [987_654]
            try context.expectEqual(
                try await renew(everything, "a/1", at: 10, until: 40), Set(mine), "ids renewed for a/1")
            var stored = try await context.storedNotifications()
            for id in mine {
                try context.expect(
                    stored[id]?.leaseOwner == "a/1" && stored[id]?.leaseExpiresAt == context.now.addingTimeInterval(40)
                        && stored[id]?.updatedAt == context.now.addingTimeInterval(10) && stored[id]?.attempts == 1,
                    "a renewed lease ends at +40 s, changed at +10 s, attempts untouched: \(String(describing: stored[id]))"
                )
            }
            let other = theirs[0]
            try context.expect(
                stored[other]?.leaseOwner == "b/1"
                    && stored[other]?.leaseExpiresAt == context.now.addingTimeInterval(30)
                    && stored[other]?.updatedAt == context.now,
                "another owner's lease is untouched: \(String(describing: stored[other]))")
            for impostor in ["a/", "a", "A/1", "a/1 ", "a/10"] {
                try context.expectEqual(
                    try await renew(everything, impostor, at: 11, until: 90), [], "ids renewed for owner '\(impostor)'")
            }
            // b/1's lease lapses at +30 s: c/1 takes it over; a/1's renewed leases still hold.
            let taken = try await context.claim("c/1", at: context.now.addingTimeInterval(35), leaseSeconds: 30)
            try context.expectEqual(taken.map(\.id), [other], "claimed at +35 s")
            try context.expectEqual(
                try await renew([other], "b/1", at: 36, until: 66), [],
                "renewal by the owner whose lease was taken over")
            stored = try await context.storedNotifications()
            try context.expect(
                stored[other]?.leaseOwner == "c/1"
                    && stored[other]?.leaseExpiresAt == context.now.addingTimeInterval(65),
                "the new owner's lease after a refused renewal: \(String(describing: stored[other]))")
            // A lease that lapsed (at +40 s) but that nobody took over is still its owner's.
            try context.expectEqual(
                try await renew(mine, "a/1", at: 45, until: 75), Set(mine), "renewal of lapsed leases nobody took over")
            let sent = try await context.store.finish(
                notification: mine[0], owner: "a/1", outcome: .sent(at: context.now.addingTimeInterval(46)))
            try context.expect(sent, "the owner's finish after renewals must be accepted")
            try context.expectEqual(
                try await renew(mine, "a/1", at: 47, until: 77), [mine[1]], "renewal once one of them was sent")
            stored = try await context.storedNotifications()
            try context.expect(
                stored[mine[0]]?.status == .sent && stored[mine[0]]?.leaseOwner == nil
                    && stored[mine[0]]?.leaseExpiresAt == nil,
                "a sent notification stays without a lease: \(String(describing: stored[mine[0]]))")
        },
        ConformanceCheck(
            "retryWaitsUntilDue",
            "A retry keeps the error, counts the attempt, and is not due before its time."
        ) { context in
            try await context.book(try context.draft(at: 60))
            let leased = try await context.claim("worker")
            let due = context.now.addingTimeInterval(120)
            let accepted = try await context.store.finish(
                notification: leased[0].id, owner: "worker",
                outcome: .retry(error: "HTTP 503", nextAttemptAt: due, now: context.now))
            try context.expect(accepted, "the owner's retry must be accepted")
            let stored = try await context.store.notifications(appointmentID: nil)[0]
            try context.expectEqual(stored.status, .pending, "status after a retry")
            try context.expectEqual(stored.lastError, "HTTP 503", "last error")
            try context.expectEqual(stored.attempts, 1, "attempts")
            try context.expectEqual(stored.nextAttemptAt, due, "next attempt time")
            try context.expectEqual(stored.leaseOwner, nil, "lease after a retry")
            try context.expectEqual(
                try await context.claim("other", at: due.addingTimeInterval(-0.001)).count, 0, "claim before it is due")
            let again = try await context.claim("other", at: due)
            try context.expectEqual(again.first?.attempts, 2, "attempts on the second claim")
        },
        ConformanceCheck(
            "failedAndSentAreFinal",
            "A failed notification is final until an admin retries it; sent is final."
        ) { context in
            let first = try await context.book(try context.draft(at: 60))
            try await context.book(try context.draft(at: 120))
            let leased = try await context.claim("worker")
            try context.expectEqual(leased.count, 2, "claimed")
            let failedID = leased.first { $0.appointmentID == first.id }?.id ?? -1
            let sentID = leased.first { $0.appointmentID != first.id }?.id ?? -1
            _ = try await context.store.finish(
                notification: failedID, owner: "worker", outcome: .failed(error: "HTTP 410", now: context.now))
            _ = try await context.store.finish(notification: sentID, owner: "worker", outcome: .sent(at: context.now))
            try context.expectEqual(
                try await context.claim("other", at: context.now.addingTimeInterval(86_400)).count, 0,
                "claims of failed and sent")
            let failed = try await context.store.notifications(appointmentID: first.id)[0]
            try context.expectEqual(failed.status, .failed, "status")
            try context.expectEqual(failed.lastError, "HTTP 410", "last error")
            let later = context.now.addingTimeInterval(600)
            let retried = try await context.store.retryFailedNotification(id: failedID, now: later)
            try context.expectEqual(retried?.status, .pending, "status after an admin retry")
            try context.expectEqual(retried?.attempts, 0, "attempts after an admin retry")
            try context.expectEqual(retried?.nextAttemptAt, later, "due time after an admin retry")
            try context.expectEqual(
                try await context.store.retryFailedNotification(id: sentID, now: later)?.status, .sent,
                "retry of a sent one")
            try context.expectEqual(
                try await context.store.retryFailedNotification(id: 987_654, now: later), nil, "retry of an unknown id")
            try context.expectEqual(
                try await context.claim("other", at: later).map(\.id), [failedID], "claim after an admin retry")
        },
        ConformanceCheck(
            "releaseDoesNotCountAnAttempt",
            "Releasing a lease does not count the attempt and makes the notification due again."
        ) { context in
            try await context.book(try context.draft(at: 60))
            let leased = try await context.claim("worker")
            let released = try await context.store.finish(
                notification: leased[0].id, owner: "worker", outcome: .released(now: context.now))
            try context.expect(released, "the owner's release must be accepted")
            let stored = try await context.store.notifications(appointmentID: nil)[0]
            try context.expectEqual(stored.attempts, 0, "attempts after release")
            try context.expectEqual(stored.leaseOwner, nil, "lease after release")
            try context.expectEqual(try await context.claim("other").count, 1, "claim right after release")
        },
        ConformanceCheck(
            "finishManyRecordsEachOutcome",
            """
            Outcomes finished together are recorded each as its own finish records it (sent, retry, failed, released, \
            obsolete), and only where the owner still holds the lease of a pending notification.
            """
        ) { context in
            for index in 0..<7 { try await context.book(try context.draft(at: 60 * (index + 1))) }
            let mine = try await context.claim("w/1", limit: 6, leaseSeconds: 30).map(\.id)
            let theirs = try await context.claim("x/1", limit: 1, leaseSeconds: 30).map(\.id)
            try context.expectEqual(mine.count, 6, "notifications claimed by w/1")
            try context.expectEqual(theirs.count, 1, "notifications claimed by x/1")
            let before = try await context.storedNotifications()
            func at(_ seconds: Double) -> Date { context.now.addingTimeInterval(seconds) }
            try context.expect(
                try await context.store.finish(notification: mine[5], owner: "w/1", outcome: .sent(at: at(5))),
                "a single finish beside the batch must be accepted")
            try context.expectEqual(
                try await context.store.finish(outcomes: [:], owner: "w/1"), [], "ids recorded by an empty batch")
            let recorded = try await context.store.finish(
                outcomes: [
                    mine[0]: .sent(at: at(10)),
                    mine[1]: .retry(error: "HTTP 503", nextAttemptAt: at(120), now: at(10)),
                    mine[2]: .failed(error: "HTTP 410", now: at(10)),
                    mine[3]: .released(now: at(10)),
                    mine[4]: .obsolete(now: at(10)),
                    mine[5]: .failed(error: "late", now: at(10)),
                    theirs[0]: .sent(at: at(10)),
                    987_654: .sent(at: at(10)),
                ], owner: "w/1")
            try context.expectEqual(
                recorded, Set(mine[0..<5]),
                "ids recorded: not one already sent, another owner's, or an unknown one")
            let stored = try await context.storedNotifications()
            func expect(_ id: Int64, _ what: String, _ holds: (BookingNotification) -> Bool) throws {
                guard let notification = stored[id] else { throw context.failure("notification \(id) is missing") }
                try context.expect(holds(notification), "\(what): \(notification)")
            }
            try expect(mine[0], "sent at +10 s, one attempt, no lease") {
                $0.status == .sent && $0.sentAt == at(10) && $0.updatedAt == at(10) && $0.attempts == 1
                    && $0.leaseOwner == nil && $0.leaseExpiresAt == nil && $0.lastError == nil
            }
            try expect(mine[1], "pending with its error, due at +120 s, one attempt, no lease") {
                $0.status == .pending && $0.lastError == "HTTP 503" && $0.nextAttemptAt == at(120)
                    && $0.updatedAt == at(10) && $0.attempts == 1 && $0.leaseOwner == nil && $0.sentAt == nil
            }
            try expect(mine[2], "failed with its error, one attempt, no lease") {
                $0.status == .failed && $0.lastError == "HTTP 410" && $0.updatedAt == at(10) && $0.attempts == 1
                    && $0.leaseOwner == nil && $0.sentAt == nil
            }
            try expect(mine[3], "released: pending, due as before, no attempt counted, no lease") {
                $0.status == .pending && $0.nextAttemptAt == before[mine[3]]?.nextAttemptAt && $0.attempts == 0
                    && $0.updatedAt == at(10) && $0.leaseOwner == nil && $0.lastError == nil
            }
            try expect(mine[4], "obsolete, no attempt counted, no lease") {
                $0.status == .obsolete && $0.attempts == 0 && $0.updatedAt == at(10) && $0.leaseOwner == nil
                    && $0.sentAt == nil
            }
            try expect(mine[5], "still as its single finish left it") {
                $0.status == .sent && $0.sentAt == at(5) && $0.lastError == nil
            }
            try expect(theirs[0], "another owner's lease untouched") { $0 == before[theirs[0]] }
            try context.expectEqual(
                try await context.claim("y/1", at: at(11)).map(\.id), [mine[3]],
                "claim after the batch: only the released one is due")
        },
        ConformanceCheck(
            "claimWithAppointmentsReadsEachAppointment",
            """
            A claim with appointments leases exactly what a claim leases, in its order, each notification with its \
            appointment as record(id:) reads it after the claim (a cancelled and a moved one included).
            """
        ) { context in
            var booked: [Appointment] = []
            for index in 0..<4 {
                booked.append(
                    try await context.book(
                        try context.draft(at: 60 * (index + 1), name: "Customer \(index)", reminders: [30])))
            }
            _ = try await context.store.cancel(id: booked[1].id, now: context.now.addingTimeInterval(1))
            try await context.reschedule(try context.move(booked[2].id, to: 600))
            let later = context.now.addingTimeInterval(60)
            let first = try await context.store.claimNotificationsWithAppointments(
                NotificationClaim(owner: "with", limit: 5, now: later, leaseExpiresAt: later.addingTimeInterval(60)))
            let rest = try await context.store.claimNotificationsWithAppointments(
                NotificationClaim(owner: "with", limit: 100, now: later, leaseExpiresAt: later.addingTimeInterval(60)))
            try context.expectEqual(first.count, 5, "a claim with appointments honours its limit")
            let claimed = first + rest
            let stored = try await context.store.notifications(appointmentID: nil)
            let due = stored.filter { $0.status == .pending && $0.nextAttemptAt <= later }
            try context.expectEqual(claimed.count, due.count, "every due notification claimed once over two claims")
            try context.expectEqual(
                Set(claimed.map(\.notification.id)).count, claimed.count, "no notification claimed twice")
            for part in [first, rest] {
                try context.expect(
                    part.map(\.notification).elementsEqual(
                        part.map(\.notification).sorted(by: NotificationClaim.dueOrder)),
                    "a claim with appointments is ordered oldest due first, as a claim")
            }
            try context.expect(
                claimed.allSatisfy { $0.notification.leaseOwner == "with" && $0.notification.attempts == 1 },
                "claimed notifications carry the lease and one attempt")
            for item in claimed {
                let current = try await context.store.record(id: item.notification.appointmentID)
                try context.expectEqual(
                    item.appointment, current, "the appointment of notification \(item.notification.id)")
            }
            try context.expect(
                claimed.contains { $0.appointment?.appointment.status == .cancelled },
                "the cancelled appointment is read as cancelled")
            try context.expectEqual(
                try await context.claim("late", at: later).count, 0,
                "claims while the leases of a claim with appointments hold")
        },
    ]
}
