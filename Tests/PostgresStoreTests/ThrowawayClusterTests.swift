import Foundation
import TestSupport
import Testing

@Suite("throwaway clusters")
struct ThrowawayClusterTests {
    @Test("a cluster its test process let go of is stopped and removed by the next one made; a held one is kept")
    func orphansReaped() async throws {
        let orphan = try await ThrowawayCluster()
        defer { orphan.destroy() }
        let kept = try await ThrowawayCluster()
        defer { kept.destroy() }
        let orphanServer = try #require(ThrowawayCluster.postmasterID(orphan.directory))
        let keptServer = try #require(ThrowawayCluster.postmasterID(kept.directory))
        try #require(ThrowawayCluster.processRuns(orphanServer) && ThrowawayCluster.processRuns(keptServer))
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
        while ThrowawayCluster.processRuns(orphanServer), ContinuousClock.now < stopped {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!ThrowawayCluster.processRuns(orphanServer))
        #expect(FileManager.default.fileExists(atPath: kept.directory + "/data"))
        #expect(ThrowawayCluster.processRuns(keptServer))
        await next.tearDown()
        await kept.tearDown()
    }
}
