import BookingDomain
import Foundation
import InMemoryStore
import Logging

/// The dispatcher's own cost per notification: an in-memory outbox drained by a sender that does nothing, for
/// several batch sizes, in CPU time of this process.
struct DispatcherBenchmark {
    let count: Int

    private struct NothingSender: NotificationSender {
        func send(_ delivery: NotificationDelivery) async throws {}
    }

    func run() async throws {
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        print("dispatcher, \(count) notifications drained per batch size (in-memory store, a sender that does nothing)")
        for batch in [1, 4, 20, 100] {
            let store = InMemoryStore()
            for index in 0..<count {
                // Booked a second ago, so every notification is due now.
                var new = try appointment(index, base: 4_000_000_000_000)
                new.now = Date().addingTimeInterval(-1)
                _ = try await store.insert(new)
            }
            let dispatcher = NotificationDispatcher(
                store: store, sender: NothingSender(),
                configuration: .init(batchSize: batch, concurrentSends: batch), logger: logger)
            let cpu0 = Self.cpuTime()
            let start = ContinuousClock.now
            let report = try await dispatcher.drain(maxPasses: count + 1)
            let elapsed = ContinuousClock.now - start
            let cpu = Self.cpuTime() - cpu0
            let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(
                "batch \(batch)".padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(
                        format: "sent %6d %.1f us CPU and %.1f us wall per notification", report.sent,
                        cpu * 1e6 / Double(count), wall * 1e6 / Double(count)))
        }
    }

    private static func cpuTime() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
            getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
            getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
