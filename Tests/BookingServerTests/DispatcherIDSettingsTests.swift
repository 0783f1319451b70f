import ArgumentParser
import Testing

@testable import BookingServer

@Suite("server settings: the dispatcher identity", .cpuBound)
struct DispatcherIDSettingsTests {
    func settings(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ServerSettings {
        try ServerSettings(options: ServerOptions.parse(arguments), environment: environment)
    }

    @Test(
        "--dispatcher-id or BOOKING_DISPATCHER_ID names the dispatcher; a flag wins; unset, each process gets a random one"
    )
    func dispatcherID() throws {
        #expect(try settings(["--dispatcher-id", "booking-web-1"]).dispatcherID == "booking-web-1")
        #expect(try settings([], ["BOOKING_DISPATCHER_ID": "booking@2.service"]).dispatcherID == "booking@2.service")
        #expect(
            try settings(["--dispatcher-id", "flag"], ["BOOKING_DISPATCHER_ID": "environment"]).dispatcherID == "flag")
        let first = try settings([]).dispatcherID
        let second = try settings([], ["BOOKING_DISPATCHER_ID": ""]).dispatcherID
        let third = try settings(["--dispatcher-id", ""]).dispatcherID
        #expect(
            [first, second, third].allSatisfy { $0.hasPrefix("booking-") } && Set([first, second, third]).count == 3)
    }

    @Test("a dispatcher id with spaces or control characters, or longer than 128 characters, is refused")
    func invalidDispatcherID() {
        for text in ["two words", "tab\there", "line\nbreak", String(repeating: "x", count: 129)] {
            let error = #expect(throws: ServerSettings.Invalid.self) { try settings(["--dispatcher-id", text]) }
            let line = error?.description ?? ""
            #expect(line.contains("--dispatcher-id") && line.contains("BOOKING_DISPATCHER_ID"), "\(line)")
            #expect(!line.contains("\n") && !line.contains("\t"), "\(line)")
        }
    }
}
