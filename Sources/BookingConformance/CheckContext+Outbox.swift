import BookingDomain
import Foundation

extension CheckContext {
    func concurrentClaimsNeverShare() async throws {
        let store = self.store
        for index in 0..<60 {
            try await book(try draft(try ResourceID.parse("r\(index % 6)"), at: 60 * (index / 6 + 1)))
        }
        let now = self.now
        let batches = await concurrently(12) { worker in
            (try? await store.claimNotifications(
                NotificationClaim(
                    owner: "worker-\(worker)", limit: 7, now: now, leaseExpiresAt: now.addingTimeInterval(60)))) ?? []
        }
        let claimed = batches.flatMap { $0 }
        try expectEqual(claimed.count, 60, "notifications claimed by 12 workers of 7")
        try expectEqual(Set(claimed.map(\.id)).count, 60, "distinct notifications claimed")
        try expect(batches.allSatisfy { $0.count <= 7 }, "a claim never exceeds its limit")
        try expect(
            claimed.allSatisfy { $0.attempts == 1 && $0.leaseOwner != nil },
            "claimed notifications carry the lease and one attempt")
        try expectEqual(try await claim("late-worker").count, 0, "claims while every lease holds")
        let stored = try await store.notifications(appointmentID: nil)
        try expect(stored.allSatisfy { $0.leaseExpiresAt == now.addingTimeInterval(60) }, "stored lease expiry")
    }

    func expiredLeaseIsTakenOver() async throws {
        let booked = try await book(try draft(at: 60))
        let first = try await claim("first", leaseSeconds: 30)
        try expectEqual(first.map(\.appointmentID), [booked.id], "first claim")
        try expectEqual(
            try await claim("second", at: now.addingTimeInterval(29)).count, 0, "claim before the lease expires")
        let second = try await claim("second", at: now.addingTimeInterval(30))
        try expectEqual(second.map(\.id), first.map(\.id), "claim after the lease expired")
        try expectEqual(second.first?.attempts, 2, "attempts after the takeover")
        let id = first[0].id
        let stale = try await store.finish(
            notification: id, owner: "first", outcome: .sent(at: now.addingTimeInterval(31)))
        try expect(!stale, "the stale owner's finish must be refused")
        try expectEqual(
            try await store.notifications(appointmentID: nil).first?.status, .pending, "status after a refused finish")
        let current = try await store.finish(
            notification: id, owner: "second", outcome: .sent(at: now.addingTimeInterval(32)))
        try expect(current, "the current owner's finish must be accepted")
        let sent = try await store.notifications(appointmentID: nil).first
        try expectEqual(sent?.status, .sent, "status after finish")
        try expectEqual(sent?.sentAt, now.addingTimeInterval(32), "sent_at")
        try expectEqual(sent?.leaseOwner, nil, "lease after finish")
        let late = try await store.finish(
            notification: id, owner: "first", outcome: .failed(error: "late", now: now.addingTimeInterval(33)))
        try expect(!late, "a late failure must not overwrite sent")
        try expectEqual(
            try await store.notifications(appointmentID: nil).first?.status, .sent, "status after a late failure")
    }

    func retryWaitsUntilDue() async throws {
        try await book(try draft(at: 60))
        let leased = try await claim("worker")
        let due = now.addingTimeInterval(120)
        let accepted = try await store.finish(
            notification: leased[0].id, owner: "worker",
            outcome: .retry(error: "HTTP 503", nextAttemptAt: due, now: now))
        try expect(accepted, "the owner's retry must be accepted")
        let stored = try await store.notifications(appointmentID: nil)[0]
        try expectEqual(stored.status, .pending, "status after a retry")
        try expectEqual(stored.lastError, "HTTP 503", "last error")
        try expectEqual(stored.attempts, 1, "attempts")
        try expectEqual(stored.nextAttemptAt, due, "next attempt time")
        try expectEqual(stored.leaseOwner, nil, "lease after a retry")
        try expectEqual(try await claim("other", at: due.addingTimeInterval(-0.001)).count, 0, "claim before it is due")
        let again = try await claim("other", at: due)
        try expectEqual(again.first?.attempts, 2, "attempts on the second claim")
    }

    func failedAndSentAreFinal() async throws {
        let first = try await book(try draft(at: 60))
        try await book(try draft(at: 120))
        let leased = try await claim("worker")
        try expectEqual(leased.count, 2, "claimed")
        let failedID = leased.first { $0.appointmentID == first.id }?.id ?? -1
        let sentID = leased.first { $0.appointmentID != first.id }?.id ?? -1
        _ = try await store.finish(
            notification: failedID, owner: "worker", outcome: .failed(error: "HTTP 410", now: now))
        _ = try await store.finish(notification: sentID, owner: "worker", outcome: .sent(at: now))
        try expectEqual(
            try await claim("other", at: now.addingTimeInterval(86_400)).count, 0, "claims of failed and sent")
        let failed = try await store.notifications(appointmentID: first.id)[0]
        try expectEqual(failed.status, .failed, "status")
        try expectEqual(failed.lastError, "HTTP 410", "last error")
        let later = now.addingTimeInterval(600)
        let retried = try await store.retryFailedNotification(id: failedID, now: later)
        try expectEqual(retried?.status, .pending, "status after an admin retry")
        try expectEqual(retried?.attempts, 0, "attempts after an admin retry")
        try expectEqual(retried?.nextAttemptAt, later, "due time after an admin retry")
        try expectEqual(
            try await store.retryFailedNotification(id: sentID, now: later)?.status, .sent, "retry of a sent one")
        try expectEqual(try await store.retryFailedNotification(id: 987_654, now: later), nil, "retry of an unknown id")
        try expectEqual(try await claim("other", at: later).map(\.id), [failedID], "claim after an admin retry")
    }

    func releaseDoesNotCountAnAttempt() async throws {
        try await book(try draft(at: 60))
        let leased = try await claim("worker")
        let released = try await store.finish(notification: leased[0].id, owner: "worker", outcome: .released(now: now))
        try expect(released, "the owner's release must be accepted")
        let stored = try await store.notifications(appointmentID: nil)[0]
        try expectEqual(stored.attempts, 0, "attempts after release")
        try expectEqual(stored.leaseOwner, nil, "lease after release")
        try expectEqual(try await claim("other").count, 1, "claim right after release")
    }
}
