import BookingDomain
import Foundation

extension CheckContext {
    func bookingWritesAppointmentAndNotification() async throws {
        let new = try draft(at: 60, key: "key-1")
        let booked = try await book(new)
        try expectEqual(booked.status, .booked, "status")
        try expectEqual(booked.slot, new.slot, "slot")
        try expectEqual(booked.occupied, new.occupied, "occupied interval")
        try expectEqual(booked.customerName, new.customerName, "customer name")
        try expectEqual(booked.note, new.note, "note")
        try expectEqual(booked.createdAt, now, "created_at")
        try expectEqual(booked.cancelledAt, nil, "cancelled_at")
        let read = try await store.record(id: booked.id)
        try expectEqual(read?.appointment, booked, "record(id:) after insert")
        try expectEqual(read?.cancelTokenHash, new.cancelTokenHash, "cancel token hash")
        try expectEqual(read?.requestFingerprint, new.requestFingerprint, "request fingerprint")
        try expectEqual(try await store.record(idempotencyKey: "key-1")?.appointment, booked, "record(idempotencyKey:)")
        try expectEqual(try await store.record(idempotencyKey: "other")?.appointment, nil, "unknown idempotency key")
        try expectEqual(try await store.record(id: booked.id + 1000)?.appointment, nil, "unknown id")
        let notifications = try await store.notifications(appointmentID: booked.id)
        try expectEqual(notifications.count, 1, "notifications of a new booking")
        let notification = notifications[0]
        try expectEqual(notification.kind, .booked, "notification kind")
        try expectEqual(notification.status, .pending, "notification status")
        try expectEqual(notification.attempts, 0, "notification attempts")
        try expectEqual(notification.nextAttemptAt, now, "notification due time")
        try expectEqual(notification.leaseOwner, nil, "notification lease")
        try expectEqual(try await store.appointments(), [booked], "listing")
        try await store.checkHealth()
    }

    func concurrentBookingsOfOneSlot() async throws {
        let store = self.store
        let new = try draft(at: 60)
        let outcomes = await concurrently(BookingConformance.concurrency) { _ in await Self.attempt(store, new) }
        try expectConcurrentWinner(outcomes)
        try await expectSingleBooking()
    }

    func concurrentOverlappingBookings() async throws {
        let store = self.store
        // Every interval contains minute 100 but no two have equal bounds.
        let drafts = try (0..<BookingConformance.concurrency).map { index in
            try draft(at: 100 - (index % 50) - 1, minutes: 2 + index / 50 + (index % 50))
        }
        let outcomes = await concurrently(drafts.count) { index in await Self.attempt(store, drafts[index]) }
        try expectConcurrentWinner(outcomes)
        try await expectSingleBooking()
    }

    func differentResourcesDoNotConflict() async throws {
        let resources: [ResourceID] = ["room-a", "room-b", "dr.who"]
        for resource in resources { try await book(try draft(resource, at: 60)) }
        try expectEqual(try await store.appointments().count, resources.count, "appointments of three resources")
        try await expectError(.slotUnavailable, "same slot, same resource") {
            _ = try await store.insert(try draft("room-a", at: 60))
        }
    }

    func occupiedIntervalsConflict() async throws {
        try await book(try draft(at: 60, buffer: 15))
        // The slot 90-120 does not overlap 60-90, but its occupied interval 75-135 overlaps 45-105.
        try await expectError(.slotUnavailable, "overlap of buffers") {
            _ = try await store.insert(try draft(at: 90, buffer: 15))
        }
        // 120-150 widened by 15 starts at 105, where 45-105 ends: touching is allowed.
        try await book(try draft(at: 120, buffer: 15))
        try await expectError(.slotUnavailable, "an interval inside a booked one") {
            _ = try await store.insert(try draft(at: 65, minutes: 5))
        }
        try await expectError(.slotUnavailable, "an interval around a booked one") {
            _ = try await store.insert(try draft(at: 30, minutes: 120))
        }
    }

    func refusedBookingWritesNothing() async throws {
        let first = try await book(try draft(at: 60))
        try await expectError(.slotUnavailable, "conflicting insert") { _ = try await store.insert(try draft(at: 45)) }
        var inverted = try draft(at: 200)
        inverted.occupied = try TimeSlot(
            start: inverted.slot.start.addingTimeInterval(600), end: inverted.slot.end.addingTimeInterval(600))
        try await expectError(.invalidInput, "occupied interval not containing the slot") {
            _ = try await store.insert(inverted)
        }
        var nameless = try draft(at: 300)
        nameless.customerName = ""
        try await expectError(.invalidInput, "empty name") { _ = try await store.insert(nameless) }
        try expectEqual(try await store.appointments().map(\.id), [first.id], "appointments after refused inserts")
        try expectEqual(
            try await store.notifications(appointmentID: nil).count, 1, "notifications after refused inserts")
    }

    func cancelledSlotCanBeBookedAgain() async throws {
        let first = try await book(try draft(at: 60))
        let later = now.addingTimeInterval(5)
        let cancelled = try await store.cancel(id: first.id, now: later)
        try expectEqual(cancelled?.status, .cancelled, "status after cancel")
        try expectEqual(cancelled?.cancelledAt, later, "cancelled_at")
        try expectEqual(cancelled?.updatedAt, later, "updated_at after cancel")
        try expectEqual(cancelled?.createdAt, first.createdAt, "created_at after cancel")
        let second = try await book(try draft(at: 60))
        try expect(second.id > first.id, "ids must increase: \(first.id) then \(second.id)")
        try expectEqual(try await store.appointments().map(\.status), [.cancelled, .booked], "statuses")
    }

    func concurrentCancels() async throws {
        let store = self.store
        let booked = try await book(try draft(at: 60))
        let at = now.addingTimeInterval(1)
        let results = await concurrently(BookingConformance.concurrency) { _ in
            try? await store.cancel(id: booked.id, now: at)
        }
        try expect(
            results.allSatisfy { $0?.status == .cancelled && $0?.cancelledAt == at },
            "every caller gets the cancelled appointment")
        let kinds = try await store.notifications(appointmentID: booked.id).map(\.kind)
        try expectEqual(kinds, [.booked, .cancelled], "notifications after concurrent cancels")
        let again = try await store.cancel(id: booked.id, now: at.addingTimeInterval(60))
        try expectEqual(again?.cancelledAt, at, "cancelled_at after a later cancel")
    }

    func cancelOfUnknownAppointment() async throws {
        try expectEqual(try await store.cancel(id: 424_242, now: now), nil, "cancel of an unknown id")
        try expectEqual(try await store.notifications(appointmentID: nil).count, 0, "notifications")
    }

    func concurrentIdempotentBookings() async throws {
        let store = self.store
        let new = try draft(at: 60, key: "retry-key")
        let outcomes = await concurrently(BookingConformance.concurrency) { _ in
            do { return try await store.insert(new) as InsertOutcome? } catch { return nil }
        }
        try expect(outcomes.allSatisfy { $0 != nil }, "every insert with the key returns the appointment")
        let created = outcomes.filter { if case .created = $0 { true } else { false } }
        try expectEqual(created.count, 1, "inserts that created")
        try expectEqual(Set(outcomes.compactMap { $0?.record.appointment.id }).count, 1, "distinct appointment ids")
        try expectEqual(try await store.appointments().count, 1, "appointments")
        try expectEqual(try await store.notifications(appointmentID: nil).count, 1, "notifications")
    }

    func listingOrder() async throws {
        let late = try await book(try draft("b", at: 300))
        let early = try await book(try draft("c", at: 60))
        let tieFirst = try await book(try draft("a", at: 120))
        let tieSecond = try await book(try draft("d", at: 120))
        _ = try await store.cancel(id: early.id, now: now)
        try expectEqual(
            try await store.appointments().map(\.id), [early.id, tieFirst.id, tieSecond.id, late.id], "order")
    }

    func timestampsRoundTrip() async throws {
        let instants: [Int64] = [-1, 1_803_801_600_123, 1_803_801_659_999, 32_503_680_000_001]
        for (index, milliseconds) in instants.enumerated() {
            let start = Date(millisecondsSince1970: milliseconds)
            let slot = try TimeSlot(start: start, end: Date(millisecondsSince1970: milliseconds + 1_800_001))
            var new = try draft(try ResourceID.parse("r\(index)"), at: 0)
            new.slot = slot
            new.occupied = slot
            new.now = Date(millisecondsSince1970: milliseconds + 7)
            let booked = try await book(new)
            let read = try await store.record(id: booked.id)?.appointment
            try expectEqual(read?.slot.start.millisecondsSince1970, milliseconds, "slot start")
            try expectEqual(read?.slot.end.millisecondsSince1970, milliseconds + 1_800_001, "slot end")
            try expectEqual(read?.createdAt.millisecondsSince1970, milliseconds + 7, "created_at")
            try expectEqual(read?.slot.start, Date(millisecondsSince1970: milliseconds), "slot start as a Date")
            let due = try await store.notifications(appointmentID: booked.id).first?.nextAttemptAt
            try expectEqual(due?.millisecondsSince1970, milliseconds + 7, "notification due time")
        }
    }

    func unicodeTextRoundTrips() async throws {
        // Compared scalar by scalar: Swift's `==` treats canonically equivalent strings as equal,
        // and a store that normalises (é as one scalar or two) must fail this check.
        let texts = [
            "👩🏽‍💻 Ada", "می‌خواهم نوبت", "श्री‌मान", "e\u{301}le\u{300}ve", "\u{E9}l\u{E8}ve", "שלום עליכם (RTL)",
            "\u{202E}override\u{202C}", "𝔄𝔡𝔞 𠜎 🀄", "a\u{FEFF}b\u{200B}c", "\u{10FFFD}", "quote ' \" \\ % _ ;--",
        ]
        for (index, text) in texts.enumerated() {
            var new = try draft(at: 60 * index)
            new.customerName = text
            new.customerEmail = "\(text.unicodeScalars.count)-ñandú@exämple.com"
            new.note = text + "\n\t" + text
            let booked = try await book(new)
            let read = try await store.record(id: booked.id)?.appointment
            for (what, written, returned) in [
                ("name from insert", new.customerName, booked.customerName),
                ("name from record(id:)", new.customerName, read?.customerName ?? ""),
                ("email from record(id:)", new.customerEmail, read?.customerEmail ?? ""),
                ("note from record(id:)", new.note ?? "", read?.note ?? ""),
            ] {
                try expect(
                    Array(written.unicodeScalars) == Array(returned.unicodeScalars),
                    "\(what): wrote scalars \(Self.scalars(written)), read \(Self.scalars(returned))")
            }
        }
        let listed = try await store.appointments().map(\.customerName)
        try expect(
            listed.map { Array($0.unicodeScalars) } == texts.map { Array($0.unicodeScalars) },
            "names from appointments() differ from what was written")
    }

    private static func scalars(_ text: String) -> String {
        text.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }.joined(separator: " ")
    }

    func bookedIntervalsOfAWindow() async throws {
        let a = try await book(try draft(at: 0))
        let b = try await book(try draft(at: 30, buffer: 0))
        let c = try await book(try draft(at: 120))
        try await book(try draft("other", at: 30))
        let cancelled = try await book(try draft(at: 200))
        _ = try await store.cancel(id: cancelled.id, now: now)
        let window = try TimeSlot(start: now.addingTimeInterval(30 * 60), end: now.addingTimeInterval(121 * 60))
        let intervals = try await store.bookedIntervals(resource: .default, overlapping: window)
        try expectEqual(intervals, [b.occupied, c.occupied], "intervals overlapping 30-121")
        let all = try await store.bookedIntervals(
            resource: .default,
            overlapping: try TimeSlot(start: now.addingTimeInterval(-86_400), end: now.addingTimeInterval(86_400)))
        try expectEqual(all, [a.occupied, b.occupied, c.occupied], "every booked interval")
    }

    func survivesReopen() async throws {
        guard let reopen = subject.reopen else { throw failure("no reopen given") }
        let booked = try await book(try draft(at: 60, key: "durable"))
        _ = try await store.cancel(id: booked.id, now: now.addingTimeInterval(1))
        let second = try await book(try draft(at: 90))
        let leased = try await claim("worker", limit: 1)
        try expectEqual(leased.count, 1, "claimed before reopen")
        let appointments = try await store.appointments()
        let before = try await store.notifications(appointmentID: nil)
        let reopened = try await reopen()
        try expectEqual(try await reopened.appointments(), appointments, "appointments after reopen")
        try expectEqual(try await reopened.notifications(appointmentID: nil), before, "notifications after reopen")
        try expectEqual(
            try await reopened.record(idempotencyKey: "durable")?.appointment.id, booked.id,
            "idempotency key after reopen")
        let third = try await reopened.insert(try draft(at: 120))
        try expect(third.record.appointment.id > second.id, "ids keep increasing after reopen")
        try await expectError(.slotUnavailable, "the no-overlap rule after reopen") {
            _ = try await reopened.insert(try draft(at: 90))
        }
    }

    // MARK: - Helpers

    static func attempt(_ store: any BookingStore, _ new: NewAppointment) async -> Result<Int64, BookingError> {
        do { return .success(try await store.insert(new).record.appointment.id) } catch { return .failure(error) }
    }

    func expectConcurrentWinner(_ outcomes: [Result<Int64, BookingError>]) throws {
        let winners = outcomes.compactMap { try? $0.get() }
        try expectEqual(winners.count, 1, "bookings that succeeded")
        let codes = outcomes.compactMap { if case .failure(let error) = $0 { error.code } else { nil } }
        try expect(
            codes.allSatisfy { $0 == .slotUnavailable },
            "losers must get SLOT_UNAVAILABLE, got \(Set(codes.map(\.description)))")
    }

    func expectSingleBooking() async throws {
        try expectEqual(try await store.appointments().count, 1, "appointments stored")
        try expectEqual(try await store.notifications(appointmentID: nil).count, 1, "notifications stored")
    }
}
