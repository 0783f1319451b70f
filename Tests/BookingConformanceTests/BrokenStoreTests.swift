import BookingConformance
import BookingDomain
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
        arguments: [
            ConformanceCheck.concurrentBookingsOfOneSlot, .concurrentOverlappingBookings, .occupiedIntervalsConflict,
        ])
    func overlapBlind(_ check: ConformanceCheck) async {
        let failure = await failure(of: check, on: { OverlapBlindStore() })
        #expect(failure?.check == check)
        #expect(failure?.description.contains("conformance check '\(check.rawValue)' failed") == true)
    }

    @Test("a store that ignores leases fails the concurrent-claim check")
    func leaseIgnoring() async {
        let failure = await failure(of: .concurrentClaimsNeverShare, on: { LeaseIgnoringStore() })
        #expect(failure?.check == .concurrentClaimsNeverShare)
    }

    @Test("a store whose finish is not guarded by the claim fails the takeover check")
    func unguardedFinish() async {
        let failure = await failure(of: .expiredLeaseIsTakenOver, on: { UnguardedFinishStore() })
        #expect(failure?.check == .expiredLeaseIsTakenOver)
        #expect(failure?.message.contains("stale owner") == true)
    }

    @Test("running a check the store lacks the capability for is refused")
    func capabilityMissing() async {
        let failure = await failure(of: .survivesReopen, on: { OverlapBlindStore() })
        #expect(failure?.check == .survivesReopen)
    }
}
