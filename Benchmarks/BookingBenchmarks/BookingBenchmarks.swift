import BookingDomain
import Foundation
import GRDB
import Logging
import PostgresNIO
import PostgresStore
import SQLiteStore

/// The in-process figures of `scripts/bench` (DESIGN.md section 7), which runs and reads them.
///
///     swift run -c release booking-benchmarks sqlite [count]
///     scripts/with-postgres swift run -c release booking-benchmarks postgres [count [clients...]]
///     swift run -c release booking-benchmarks availability
///     swift run -c release booking-benchmarks dispatcher [count]
@main
enum BookingBenchmarks {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        let count = arguments.dropFirst().first.flatMap(Int.init) ?? 2000
        switch arguments.first {
        case "sqlite": try await SQLiteBenchmark(count: count).run()
        case "postgres":
            let clients = arguments.dropFirst(2).compactMap { Int($0) }
            try await PostgresBenchmark(count: count, clients: clients.isEmpty ? [1, 8, 64] : clients).run()
        case "availability": try await AvailabilityBenchmark().run()
        case "dispatcher": try await DispatcherBenchmark(count: count).run()
        default:
            print(
                "usage: booking-benchmarks sqlite [count] | postgres [count [clients...]] | availability"
                    + " | dispatcher [count]")
        }
    }
}

/// The booking a benchmark makes: slot `index` of a grid of 30-minute slots, far from other data.
func appointment(_ index: Int, base: Int64, key: Bool = false) throws -> NewAppointment {
    let start = Date(millisecondsSince1970: base + Int64(index) * 1_800_000)
    let slot = try TimeSlot(start: start, end: start.addingTimeInterval(1800))
    return NewAppointment(
        resource: .default, slot: slot, occupied: slot, customerName: "Bench Mark", customerEmail: "bench@example.com",
        note: nil, cancelTokenHash: String(repeating: "b", count: 64),
        idempotencyKey: key ? "bench-\(base)-\(index)" : nil,
        requestFingerprint: "bench", now: Date(millisecondsSince1970: base))
}

func rate(_ count: Int, _ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

func report(_ label: String, _ value: Double) {
    print(label.padding(toLength: 60, withPad: " ", startingAt: 0) + String(format: "%8.0f bookings/s", value))
}

func ratio(_ label: String, _ numerator: Double, _ denominator: Double) {
    print(label.padding(toLength: 60, withPad: " ", startingAt: 0) + String(format: "%8.2f", numerator / denominator))
}

/// The median of three interleaved rounds of each measurement, so drift on a shared machine hits all alike.
func medians(rounds: Int = 3, _ measurements: [(Int) async throws -> Double]) async throws -> [Double] {
    var samples = Array(repeating: [Double](), count: measurements.count)
    for round in 0..<rounds {
        for (index, measure) in measurements.enumerated() { samples[index].append(try await measure(round)) }
    }
    return samples.map { $0.sorted()[$0.count / 2] }
}
