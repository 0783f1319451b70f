import Foundation
import TestSupport
import Testing

@Suite("throwaway clusters")
struct ThrowawayClusterTests {
    /// Whether process `pid` runs: it exists and has not ended (a zombie has ended).
    static func runs(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let state = stat.split(separator: ")").last?.split(separator: " ").first
        else { return false }
        return state != "Z"
    }

    /// The process ID of the cluster's server, from its `postmaster.pid`.
    static func server(_ cluster: ThrowawayCluster) throws -> pid_t {
        let file = try String(contentsOfFile: cluster.directory + "/data/postmaster.pid", encoding: .utf8)
        return try #require(file.split(separator: "\n").first.flatMap { pid_t($0) })
    }

    @Test("a cluster outlived by its test process is stopped and removed; one whose process runs is kept")
    func orphansReaped() async throws {
        let orphan = try await ThrowawayCluster()
        defer { orphan.destroy() }
        let kept = try await ThrowawayCluster()
        defer { kept.destroy() }
        let (orphanServer, keptServer) = (try Self.server(orphan), try Self.server(kept))
        #expect(Self.runs(orphanServer) && Self.runs(keptServer))
        // The orphan's owner becomes a process that has ended: a child that exited and was waited for.
        let ended = try ChildProcess(["/bin/true"])
        #expect(ended.wait() == 0)
        try Data("\(ended.pid)\n".utf8).write(
            to: URL(fileURLWithPath: orphan.directory + "/" + ThrowawayCluster.ownerFile))

        await onOwnThread { ThrowawayCluster.reapOrphans() }

        #expect(!FileManager.default.fileExists(atPath: orphan.directory))
        #expect(!Self.runs(orphanServer))
        #expect(FileManager.default.fileExists(atPath: kept.directory))
        #expect(Self.runs(keptServer))
        await kept.tearDown()
    }
}
