import BookingConformance
import BookingDomain
import InMemoryStore
import Testing

@Suite("the conformance suite catches broken stores")
struct BrokenStoreTests {
    private func failure(of check: ConformanceCheck, on makeStore: @escaping @Sendable () -> any BookingStore) async
        -> ConformanceFailure?
    {
        let suite = BookingConformance { StoreUnderTest(store: makeStore()) }
        do {
            try await suite.run(check)
            return nil
        } catch {
            return error as? ConformanceFailure
        }
    }

    @Test(
        "a store that forgets the overlap check fails the concurrent-booking checks",
        arguments: ["concurrentBookingsOfOneSlot", "concurrentOverlappingBookings", "occupiedIntervalsConflict"])
    func overlapBlind(_ name: String) async throws {
        let check = try #require(ConformanceCheck.named(name))
        let failure = await failure(of: check, on: { OverlapBlindStore() })
        #expect(failure?.check == check)
        #expect(failure?.description.contains("conformance check '\(name)' failed") == true)
    }

    @Test("a store that takes instants outside the years 0001-9999 fails the refused-booking check")
    func rangeBlind() async throws {
        let check = try #require(ConformanceCheck.named("refusedBookingWritesNothing"))
        let failure = await failure(of: check, on: { RangeBlindStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("outside the years 0001-9999") == true, "\(failure?.message ?? "")")
    }

    @Test("a store that ignores leases fails the concurrent-claim check")
    func leaseIgnoring() async throws {
        let check = try #require(ConformanceCheck.named("concurrentClaimsNeverShare"))
        let failure = await failure(of: check, on: { LeaseIgnoringStore() })
        #expect(failure?.check == check)
    }

    @Test("a store whose claim pairs notifications with their appointments as booked fails the claim-read check")
    func bookedSnapshotClaim() async throws {
        let check = try #require(ConformanceCheck.named("claimWithAppointmentsReadsEachAppointment"))
        let failure = await failure(of: check, on: { BookedSnapshotClaimStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("the appointment of notification") == true)
    }

    @Test("a store whose finish is not guarded by the claim fails the takeover check")
    func unguardedFinish() async throws {
        let check = try #require(ConformanceCheck.named("expiredLeaseIsTakenOver"))
        let failure = await failure(of: check, on: { UnguardedFinishStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("stale owner") == true)
    }

    @Test("a store whose batch of outcomes is not guarded by the claim fails the batch check")
    func unguardedBatchFinish() async throws {
        let check = try #require(ConformanceCheck.named("finishManyRecordsEachOutcome"))
        let failure = await failure(of: check, on: { UnguardedBatchFinishStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("ids recorded") == true, "\(failure?.message ?? "")")
    }

    @Test("a store that drops a retry's error text fails the timed-out-sends check")
    func retryErrorDropping() async throws {
        let check = try #require(ConformanceCheck.named("timedOutSendsAreRecorded"))
        let failure = await failure(of: check, on: { RetryErrorDroppingStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("stored:") == true, "\(failure?.message ?? "")")
    }

    @Test("a store that keeps shorter leases than it reports fails the lease-at-send-start check")
    func shortLeases() async throws {
        let check = try #require(ConformanceCheck.named("noSendStartsOnALapsingLease"))
        let failure = await failure(of: check, on: { ShortLeaseStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("s of lease left") == true, "\(failure?.message ?? "")")
    }

    @Test("a store that renews leases other owners hold fails the renewal check")
    func unguardedRenewal() async throws {
        let check = try #require(ConformanceCheck.named("leaseRenewalIsGuardedByOwner"))
        let failure = await failure(of: check, on: { UnguardedRenewalStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("ids renewed for a/1") == true, "\(failure?.message ?? "")")
    }

    @Test("a store whose release matches look-alike owners fails the restart check")
    func lookAlikeRelease() async throws {
        let check = try #require(ConformanceCheck.named("restartedDispatcherTakesBackItsLeases"))
        let failure = await failure(of: check, on: { LookAlikeReleaseStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("leases w_1 took back") == true, "\(failure?.message ?? "")")
    }

    @Test("a store whose migrate() is not idempotent fails the migrate check")
    func recreatingMigration() async throws {
        let check = try #require(ConformanceCheck.named("migrateIsIdempotent"))
        let failure = await failure(of: check, on: { RecreatingMigrationStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("appointments after migrate()") == true, "\(failure?.message ?? "")")
    }

    @Test("a store that moves by cancelling and booking again fails the atomic-move checks")
    func cancelAndRebook() async throws {
        let refused = try #require(ConformanceCheck.named("refusedRescheduleChangesNothing"))
        let refusal = await failure(of: refused, on: { CancelAndRebookStore() })
        #expect(refusal?.check == refused)
        #expect(refusal?.message.contains("appointments after refused moves") == true, "\(refusal?.message ?? "")")
        let moves = try #require(ConformanceCheck.named("rescheduleMovesTheAppointment"))
        let move = await failure(of: moves, on: { CancelAndRebookStore() })
        #expect(move?.message.contains("id after the move") == true, "\(move?.message ?? "")")
    }

    @Test("a store that forgets the reminders of a move fails the reminder-move check")
    func droppedReminders() async throws {
        let check = try #require(ConformanceCheck.named("remindersFollowAReschedule"))
        let failure = await failure(of: check, on: { ReminderDroppingStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("statuses after the move") == true, "\(failure?.message ?? "")")
    }

    @Test("a store that counts seats by reading then writing overbooks and fails the seats check")
    func readThenWriteSeats() async throws {
        let check = try #require(ConformanceCheck.named("concurrentBookingsOfASlotWithSeats"))
        let failure = await failure(of: check, on: { ReadThenWriteSeatsStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("attempts that succeeded: expected 5") == true, "\(failure?.message ?? "")")
    }

    @Test("a store that lets one customer take two seats of a slot fails the same-email check")
    func emailBlind() async throws {
        let check = try #require(ConformanceCheck.named("sameEmailTwiceInASlot"))
        let failure = await failure(of: check, on: { EmailBlindStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("the same email again") == true, "\(failure?.message ?? "")")
    }

    @Test(
        "a store that forgets booking limits fails the limit checks",
        arguments: ["concurrentBookingsUnderADailyLimit", "weeklyLimit", "holdTakesOneSeat"])
    func limitBlind(_ name: String) async throws {
        let check = try #require(ConformanceCheck.named(name))
        let failure = await failure(of: check, on: { LimitBlindStore() })
        #expect(failure?.check == check)
    }

    @Test(
        "a store whose holds are advisory fails the hold checks",
        arguments: [
            "concurrentHoldsOfOneSlot", "holdLapsesAtItsExpiryToTheMillisecond", "holdsAndBookingsRaceForOneSlot",
        ])
    func advisoryHolds(_ name: String) async throws {
        let check = try #require(ConformanceCheck.named(name))
        let failure = await failure(of: check, on: { AdvisoryHoldStore() })
        #expect(failure?.check == check)
    }

    @Test("a store whose occupants read stops at its first page of rows fails the busy-window check")
    func firstPageOccupants() async throws {
        let check = try #require(ConformanceCheck.named("occupantsOfABusyWindow"))
        let failure = await failure(of: check, on: { FirstPageOccupantsStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("occupants of the busy window") == true, "\(failure?.message ?? "")")
    }

    @Test("a store that ignores onlyIfAlreadyThere fails the staying-put check")
    func stayingPutIgnored() async throws {
        let check = try #require(ConformanceCheck.named("stayingPutNeverMovesIntoAnUnofferedSlot"))
        let failure = await failure(of: check, on: { StayingPutIgnoringStore() })
        #expect(failure?.check == check)
        #expect(
            failure?.message.contains("a flagged move back into the slot it left") == true, "\(failure?.message ?? "")")
    }

    @Test("running a check the store lacks the capability for is refused")
    func capabilityMissing() async throws {
        let check = try #require(ConformanceCheck.named("survivesReopen"))
        let failure = await failure(of: check, on: { OverlapBlindStore() })
        #expect(failure?.check == check)
    }

    @Test("every check has a unique name and a summary, and the suite's concurrency level is a parameter")
    func declarations() async throws {
        #expect(Set(ConformanceCheck.all.map(\.name)).count == ConformanceCheck.all.count)
        #expect(ConformanceCheck.all.allSatisfy { !$0.summary.isEmpty })
        #expect(BookingConformance(concurrency: 17) { StoreUnderTest(store: OverlapBlindStore()) }.concurrency == 17)
        let check = try #require(ConformanceCheck.named("concurrentBookingsOfOneSlot"))
        let small = BookingConformance(concurrency: 3) { StoreUnderTest(store: OverlapBlindStore()) }
        let failure = await #expect(throws: ConformanceFailure.self) { try await small.run(check) }
        #expect(failure?.message.contains("expected 1, got 3") == true, "\(failure?.message ?? "")")
    }

    @Test("a store that normalises text fails the Unicode round-trip check")
    func normalizing() async throws {
        let check = try #require(ConformanceCheck.named("unicodeTextRoundTrips"))
        let failure = await failure(of: check, on: { NormalizingStore() })
        #expect(failure?.check == check)
        #expect(failure?.message.contains("U+301") == true, "\(failure?.message ?? "")")
    }

    @Test("a store that opens a database of a newer schema fails the refusal check")
    func acceptsNewerSchema() async throws {
        let check = try #require(ConformanceCheck.named("newerSchemaIsRefused"))
        let store = InMemoryStore()
        let suite = BookingConformance(capabilities: [.schemaMigrations]) {
            StoreUnderTest(
                store: store,
                schema: SchemaHooks(
                    openTogether: { count in Array(repeating: store, count: count) },
                    appliedVersions: { _ in ["v1"] }, recordNewerVersion: {}, openAgain: { store }))
        }
        let failure = await #expect(throws: ConformanceFailure.self) { try await suite.run(check) }
        #expect(failure?.message.contains("newer schema succeeded") == true, "\(failure?.message ?? "")")
    }

    @Test("a store that tells every caller of a cancel it made the transition fails the concurrent-cancel check")
    func everyCancelTransitions() async throws {
        try await expectFailure("concurrentCancels", on: { EveryCancelTransitionsStore() }, saying: "callers told they")
    }

    @Test("a store that scopes an idempotency key to its request fails the key-reuse check")
    func fingerprintScopedKey() async throws {
        try await expectFailure(
            "concurrentReuseOfAnIdempotencyKey", on: { FingerprintScopedKeyStore() }, saying: "inserts that created")
    }

    @Test("a store that answers a reused key with the caller's fingerprint fails the key-reuse check")
    func fingerprintEcho() async throws {
        try await expectFailure(
            "concurrentReuseOfAnIdempotencyKey", on: { FingerprintEchoStore() },
            saying: "the existing appointment's fingerprint")
    }

    @Test(
        "a store that counts a move's seats or its day by reading then writing fails the concurrent-move checks, and only those",
        arguments: ["concurrentMovesIntoASlotWithSeats", "concurrentMovesUnderADailyLimit"])
    func readThenWriteMoves(_ name: String) async throws {
        try await expectFailure(name, on: { ReadThenWriteMovesStore() }, saying: "attempts that succeeded: expected")
        for sequential in ["rescheduleIntoAFullSlot", "rescheduleUnderALimit"] {
            let check = try #require(ConformanceCheck.named(sequential))
            #expect(await failure(of: check, on: { ReadThenWriteMovesStore() }) == nil, "\(sequential) passes it")
        }
    }

    @Test("a store that counts a hold's seats by reading then writing fails the concurrent seat-hold check")
    func readThenWriteHoldSeats() async throws {
        try await expectFailure(
            "concurrentHoldsOfASlotWithSeats", on: { ReadThenWriteHoldSeatsStore() },
            saying: "attempts that succeeded: expected 5")
    }

    @Test("a store that checks a hold, then books and releases it in another step, fails the shared-token check")
    func readThenUseHold() async throws {
        try await expectFailure(
            "concurrentBookingsWithOneHold", on: { ReadThenUseHoldStore() },
            saying: "attempts that succeeded: expected 1")
    }

    @Test("a store that places every hold on one resource fails the hold-resource check")
    func oneResourceHolds() async throws {
        try await expectFailure(
            "holdsKeepToTheirResource", on: { OneResourceHoldStore() }, saying: "the store threw")
    }

    @Test("a store that lists a tie by resource instead of id fails the listing-order check")
    func resourceOrderedListing() async throws {
        try await expectFailure("listingOrder", on: { ResourceOrderedListingStore() }, saying: "order: expected")
    }

    @Test(
        "the protocol's defaults (a resource's listing from an instant, the claim with appointments, a batch's outcomes) pass every check",
        arguments: BookingConformance { StoreUnderTest(store: DefaultsOnlyStore()) }.checks)
    func defaults(_ check: ConformanceCheck) async throws {
        try await BookingConformance { StoreUnderTest(store: DefaultsOnlyStore()) }.run(check)
    }

    @Test("a store that lists a resource's feed by the slots ending after the instant fails the listing-from check")
    func endingAfterListing() async throws {
        try await expectFailure(
            "listingOfAResourceFromAnInstant", on: { EndingAfterListingStore() },
            saying: "one millisecond after +60 min, the slot starting then is left out: expected")
    }

    @Test("a store that writes a booking's notification in a step after its appointment fails the readers' check")
    func notificationLater() async throws {
        try await expectFailure(
            "readersNeverSeeHalfAWrite", on: { NotificationLaterStore() }, saying: "listed without its booked")
    }

    /// `name` fails on the store `makeStore` makes, with a message containing `message`.
    private func expectFailure(
        _ name: String, on makeStore: @escaping @Sendable () -> any BookingStore, saying message: String
    ) async throws {
        let check = try #require(ConformanceCheck.named(name))
        let failure = await failure(of: check, on: makeStore)
        #expect(failure?.check == check)
        #expect(failure?.message.contains(message) == true, "\(failure?.message ?? "passed")")
    }
}
