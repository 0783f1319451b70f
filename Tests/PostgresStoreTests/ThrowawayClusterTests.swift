import Foundation
import TestSupport
import Testing

@Suite("throwaway clusters")
struct ThrowawayClusterTests {
    /// Whether process `pid` runs: it exists and has not ended (a zombie has ended).
    private static func runs(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let state = stat.split(separator: ")").last?.split(separator: " ").first
        else { return false }
        return state != "Z"
    }

    /// The process ID of the cluster's server, from its `postmaster.pid`.
    private static func server(_ cluster: ThrowawayCluster) throws -> pid_t {
        let file = try String(contentsOfFile: cluster.directory + "/data/postmaster.pid", encoding: .utf8)
        return try #require(file.split(separator: "\n").first.flatMap { pid_t($0) })
    }

    @Test("a cluster its test process let go of is stopped and removed by the next one made; a held one is kept")
    func orphansReaped() async throws {
        let orphan = try await ThrowawayCluster()
        defer { orphan.destroy() }
        let kept = try await ThrowawayCluster()
        defer { kept.destroy() }
        let (orphanServer, keptServer) = (try Self.server(orphan), try Self.server(kept))
        try #require(Self.runs(orphanServer) && Self.runs(keptServer))
        let keptOwner = try String(
            contentsOfFile: kept.directory + "/" + ThrowawayCluster.ownerLockFile, encoding: .utf8)
        #expect(keptOwner == "\(getpid())\n")

        orphan.abandon()
        let next = try await ThrowawayCluster()
        defer { next.destroy() }

        // Clusters made by other tests meanwhile reap too: wait for the outcome, not for one reaper. A reaper stops
        // the server before it removes the directory; a server whose directory went without a stop would end on
        // its own only at its next check of its lock file, up to a minute later.
        let deadline = ContinuousClock.now + .seconds(60)
        while FileManager.default.fileExists(atPath: orphan.directory), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!FileManager.default.fileExists(atPath: orphan.directory))
        let stopped = ContinuousClock.now + .seconds(5)
        while Self.runs(orphanServer), ContinuousClock.now < stopped { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!Self.runs(orphanServer))
        #expect(FileManager.default.fileExists(atPath: kept.directory + "/data"))
        #expect(Self.runs(keptServer))
        await next.tearDown()
        await kept.tearDown()
    }
}
