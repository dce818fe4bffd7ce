import Foundation
import TestSupport
import XCTest

/// rstrain across three simulated hosts (cluster/sim: one network namespace, hostname and local
/// disk per host, mpirun starting its daemons through agent.sh instead of ssh, MPI over TCP on
/// 10.77.0.0/24). Needs root and working `ip netns`; skipped otherwise.
final class SimClusterTests: XCTestCase {
    static let sim = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("cluster/sim").path
    static let hosts = 3

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("the simulated cluster needs root (network namespaces)") }
        guard onPath("ip"), onPath("mpirun"), onPath("unshare") else {
            throw XCTSkip("the simulated cluster needs ip (iproute2), unshare (util-linux) and mpirun (Open MPI)")
        }
        // Can this machine (container) make namespaces at all?
        let probe = "rstrain-simprobe"
        _ = try runProcess("ip", ["netns", "del", probe])
        let made = try runProcess("ip", ["netns", "add", probe])
        _ = try runProcess("ip", ["netns", "del", probe])
        guard made.status == 0 else { throw XCTSkip("ip netns is not usable here: \(made.stderr)") }
        let up = try sim("up.sh", ["\(Self.hosts)"], timeout: 60)
        XCTAssertEqual(up.status, 0, "up.sh failed:\n\(up.stdout)\n\(up.stderr)")
        guard up.status == 0 else { throw TestSetupError("the simulated cluster did not come up") }
    }

    override func tearDownWithError() throws {
        guard getuid() == 0 else { return }
        let down = try sim("down.sh", [], timeout: 60)
        XCTAssertEqual(down.status, 0, "down.sh failed:\n\(down.stderr)")
        let left = try runProcess("ip", ["netns", "list"]).stdout
        XCTAssertFalse(left.contains("rstrain-sim"), "namespaces left behind:\n\(left)")
    }

    func sim(_ script: String, _ args: [String], timeout: TimeInterval = 120) throws -> ProcessResult {
        try runProcess(Self.sim + "/" + script, args, timeout: timeout)
    }

    /// Rank 0's JSON line from a run's stdout (launcher notices are ignored).
    func json(_ r: ProcessResult) throws -> [String: Any] {
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("{") }
        let j = line.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        return try XCTUnwrap(j, "no JSON from rank 0:\n\(r.stdout)\n\(r.stderr)")
    }

    /// One rank per host, each on its own host: rank r runs on rstrain-sim(r+1), the one agent.sh
    /// started for address 10.77.0.(r+1), and the all-reduce crossed the simulated network.
    func testDoctorOneRankPerHost() throws {
        let r = try sim("run.sh", ["-n", "3", "--map-by", "node", try rstrainBinary(), "doctor", "--json"])
        XCTAssertEqual(r.status, 0, "stdout:\n\(r.stdout)\nstderr:\n\(r.stderr)")
        let j = try json(r)
        XCTAssertEqual(j["ok"] as? Bool, true)
        XCTAssertEqual(j["size"] as? Int, 3)
        XCTAssertEqual((j["mpi"] as? [String: Any])?["allreduceSum"] as? Int, 0 + 1 + 2)
        let expected = (1...Self.hosts).map { "rstrain-sim\($0)" }
        XCTAssertEqual(j["hosts"] as? [String], expected)
        let ranks = try XCTUnwrap(j["ranks"] as? [[String: Any]])
        XCTAssertEqual(ranks.compactMap { $0["rank"] as? Int }, [0, 1, 2], "every rank answered")
        XCTAssertEqual(ranks.compactMap { $0["host"] as? String }, expected, "each rank on its own host")
    }
}
