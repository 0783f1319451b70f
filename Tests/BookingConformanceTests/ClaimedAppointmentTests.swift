import BookingDomain
import BookingTesting
import Foundation
import InMemoryStore
import Logging
import Testing

@Suite("the dispatcher and the appointments its claim read")
struct ClaimedAppointmentTests {
    let logger = Logger(label: "claimed-appointment-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Books one slot through the service and cancels it, both at the clock's time: a `booked` and a
    /// `cancelled` notification are due.
    func bookAndCancel(on store: any BookingStore, clock: any WallClock) async throws {
        let service = BookingService(store: store, clock: clock)
        // Not the first slot: it may start while a busy machine stalls this task between reading and booking it.
        let slot = try #require(try await service.availability().dropFirst().first)
        let booked = try await service.book(
            BookingRequest(slotStart: slot.start, slotEnd: slot.end, name: "Ada", email: "ada@example.com"))
        _ = try await store.cancel(id: booked.appointment.id, now: clock.now())
    }

    @Test("a send starting right after its claim goes with the appointment the claim read")
    func freshClaimIsUsed() async throws {
        let clock = ManualWallClock(now: Date())
        let store = BookedSnapshotClaimStore()  // reads the appointment as booked, whatever it is now
        try await bookAndCancel(on: store, clock: clock)
        let sender = RecordingNotificationSender()
        _ = try await NotificationDispatcher(store: store, sender: sender, clock: clock, logger: logger).drain()
        #expect(sender.delivered.count == 2)
        #expect(sender.delivered.allSatisfy { $0.appointment.status == .booked })
    }

    @Test("a send starting later than the freshness window after its claim reads the appointment again")
    func lateSendRereads() async throws {
        let clock = ManualWallClock(now: Date())
        let store = BookedSnapshotClaimStore()
        try await bookAndCancel(on: store, clock: clock)
        // One pass claims both (a 60 s lease fits several 10 s sends), sent one at a time, each taking two
        // seconds of the clock: the second starts past the window.
        let sender = RecordingNotificationSender(whileSending: { _, _ in clock.advance(by: .seconds(2)) })
        let configuration = NotificationDispatcher.Configuration(
            concurrentSends: 1, leaseDuration: .seconds(60), sendTimeout: .seconds(10))
        #expect(configuration.claimLimit >= 2)
        _ = try await NotificationDispatcher(
            store: store, sender: sender, configuration: configuration, clock: clock, logger: logger
        ).drain()
        let statuses = sender.delivered.map(\.appointment.status)
        #expect(statuses == [.booked, .cancelled])
    }

    @Test("an appointment the claim could not read is read by the dispatcher before the send")
    func unreadAppointmentIsRead() async throws {
        let clock = ManualWallClock(now: Date())
        let store = UnreadClaimStore()
        try await bookAndCancel(on: store, clock: clock)
        let sender = RecordingNotificationSender()
        let report = try await NotificationDispatcher(store: store, sender: sender, clock: clock, logger: logger)
            .drain()
        #expect(report.sent == 2)
        #expect(sender.delivered.count == 2)
        #expect(sender.delivered.allSatisfy { $0.appointment.status == .cancelled })
    }
}
