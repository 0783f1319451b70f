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
///     scripts/with-postgres swift run -c release booking-benchmarks postgres-read [count]
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
        case "postgres-read": try await PostgresReadBenchmark(count: count).run()
        case "availability": try await AvailabilityBenchmark().run()
        case "dispatcher": try await DispatcherBenchmark(count: count).run()
        default:
            print(
                "usage: booking-benchmarks sqlite [count] | postgres [count [clients...]] | postgres-read [count]"
                    + " | availability | dispatcher [count]")
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

/// A PostgresStore on `BOOKING_POSTGRES_URL` (not yet running) with `poolSize` connections, no TLS and no logs, as the
/// PostgreSQL benchmarks use it; `nil`, after saying so, when the variable is unset.
func benchmarkPostgresStore(poolSize: Int) throws -> PostgresStore? {
    guard let url = ProcessInfo.processInfo.environment["BOOKING_POSTGRES_URL"] else {
        print("BOOKING_POSTGRES_URL is not set: run through scripts/with-postgres")
        return nil
    }
    var configuration = try PostgresStore.Configuration(url: url)
    configuration.tls = .disable
    configuration.poolSize = poolSize
    configuration.connectionWaitTimeout = .seconds(60)
    return PostgresStore(
        configuration: configuration, logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
}

/// A fully booked week of 5-minute, one-seat slots: 2,016 rows for an availability read of 7 days. Its own resource
/// (`bench-week`) and far from other data, so the bookings of other figures never fall into it.
enum BookedWeek {
    static let resource: ResourceID = "bench-week"
    /// 2090-01-01T00:00:00Z to seven days later.
    static var window: TimeSlot {
        get throws {
            try TimeSlot(
                start: Date(millisecondsSince1970: 3_786_912_000_000),
                end: Date(millisecondsSince1970: 3_786_912_000_000 + 7 * 86_400_000))
        }
    }
    static let slotCount = 7 * 288

    /// Books every slot of the week that `store` does not hold yet (a database kept from an earlier run holds them).
    static func book(into store: some BookingStore) async throws {
        let window = try Self.window
        let booked = try await store.occupants(resource: resource, overlapping: window, now: window.start).count
        guard booked < slotCount else { return }
        for index in booked..<slotCount {
            let start = window.start.addingTimeInterval(Double(index) * 300)
            let slot = try TimeSlot(start: start, end: start.addingTimeInterval(300))
            _ = try await store.insert(
                NewAppointment(
                    resource: resource, slot: slot, occupied: slot, customerName: "Bench Mark",
                    customerEmail: "bench@example.com", note: nil, cancelTokenHash: String(repeating: "b", count: 64),
                    idempotencyKey: nil, requestFingerprint: "bench", now: window.start))
        }
    }

    /// Reads the week's occupants from `store` and checks it found every booking.
    static func read(from store: some BookingStore) async throws {
        let window = try Self.window
        let found = try await store.occupants(resource: resource, overlapping: window, now: window.start).count
        guard found == slotCount else { throw BenchmarkFailure("read \(found) occupants of \(slotCount)") }
    }
}

/// A benchmark whose run went wrong, so its figure would mean nothing.
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func rate(_ count: Int, _ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

func report(_ label: String, _ value: Double, unit: String = "bookings/s") {
    print(label.padding(toLength: 60, withPad: " ", startingAt: 0) + String(format: "%8.0f \(unit)", value))
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
