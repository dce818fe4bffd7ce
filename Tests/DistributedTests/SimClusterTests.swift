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

    /// Round-robin training with each shard on one host's local disk only: host N holds
    /// shard_00(N-1) at /tmp/rstrain-sim/local (its own /tmp/rstrain-sim/hostN), and so does
    /// the config, read by rank 0 alone; the run directory lands on rank 0's host. Exact mode:
    /// the final weights are bit-identical to a one-rank run on this machine with every shard.
    func testRoundRobinWithHostLocalShards() throws {
        let h5py = try runProcess("python3", ["-c", "import h5py"])
        guard h5py.status == 0 else { throw XCTSkip("comparing weights needs python3 with h5py") }
        let exe = try rstrainBinary()
        let scratch = try self.scratch()
        let synth = try runProcess(exe, ["synth", "--preset", "sentinel2", "--out", scratch + "/data", "--shards", "3",
                                         "--tiles-per-shard", "1", "--size", "128", "--seed", "3"])
        XCTAssertEqual(synth.status, 0, synth.stderr)
        let shards = (0..<Self.hosts).map { "shard_00\($0)" }
        for (i, shard) in shards.enumerated() {
            try FileManager.default.copyItem(atPath: "\(scratch)/data/\(shard)", toPath: "\(Self.state)/host\(i + 1)/\(shard)")
        }

        // One rank on this machine, every shard in the scratch directory.
        let one = try Self.config(shards: shards.map { ["path": "\(scratch)/data/\($0)"] }, runDir: scratch + "/run1")
        try one.write(to: URL(fileURLWithPath: scratch + "/one.json"))
        let r1 = try runProcess("mpirun", ["--allow-run-as-root", "-n", "1", exe, scratch + "/one.json"],
                                environment: Self.rootOK, timeout: 300)
        XCTAssertEqual(r1.status, 0, "one rank:\n\(r1.stdout)\n\(r1.stderr)")

        // Three hosts: the same shard names, placed by host name, at a path each host resolves locally.
        let placed = shards.enumerated().map { ["path": "\(Self.local)/\($1)", "hosts": ["rstrain-sim\($0 + 1)"]] as [String: Any] }
        try Self.config(shards: placed, runDir: Self.local + "/run").write(to: URL(fileURLWithPath: Self.state + "/host1/sim.json"))
        let r3 = try sim("run.sh", ["-n", "3", "--map-by", "node", exe, Self.local + "/sim.json"], timeout: 300)
        XCTAssertEqual(r3.status, 0, "three hosts:\n\(r3.stdout)\n\(r3.stderr)")

        // Rank r trained only on its own host's shard.
        let schedule = try String(contentsOfFile: Self.state + "/host1/run/schedule.jsonl").split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let trained = schedule.filter { $0["steps"] as? Int ?? 0 > 0 }
        XCTAssertFalse(trained.isEmpty)
        for round in trained {
            let s = try XCTUnwrap(round["shards"] as? [String])
            XCTAssertEqual(s.count, 1, "\(round)")
            XCTAssertEqual(round["ranks"] as? [Int], s.compactMap { shards.firstIndex(of: $0) }, "\(round)")
        }
        XCTAssertEqual(Set(trained.flatMap { $0["shards"] as? [String] ?? [] }), Set(shards))
        for model in ["unet", "resnet"] {
            let a = try Self.datasetDigests("\(scratch)/run1/final/\(model).h5")
            XCTAssertFalse(a.isEmpty)
            XCTAssertEqual(try Self.datasetDigests("\(Self.state)/host1/run/final/\(model).h5"), a, "\(model): 3 hosts differ from 1 rank")
        }

        // The shards really are host-local: placing shard_001 on host 1 fails, naming it.
        var wrong = placed
        wrong[1]["hosts"] = ["rstrain-sim1"]
        try Self.config(shards: wrong, runDir: Self.local + "/run-wrong").write(to: URL(fileURLWithPath: Self.state + "/host1/wrong.json"))
        let bad = try sim("run.sh", ["-n", "3", "--map-by", "node", exe, Self.local + "/wrong.json"], timeout: 300)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue((bad.stdout + bad.stderr).contains("\(Self.local)/shard_001: does not exist"), bad.stdout + bad.stderr)
    }

    static let state = "/tmp/rstrain-sim"
    static let local = state + "/local"
    static let rootOK = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                         "OMPI_MCA_btl_vader_single_copy_mechanism": "none"]

    /// Two tiny models trained round-robin in exact mode (as in the trainer's own tests).
    static func config(shards: [[String: Any]], runDir: String) throws -> Data {
        let json: [String: Any] = [
            "run_dir": runDir, "seed": 5, "reduction": "exact",
            "data": ["shards": shards, "window": 32, "labels": "proportions", "augment": true, "validation_fraction": 0.2],
            "models": [
                ["name": "unet", "model": ["arch": "unet", "dims": 2, "bands": 10, "classes": 8, "filters": 4, "levels": 2, "dropout": 0.1]],
                ["name": "resnet", "model": ["arch": "resnet", "stages": [1], "widths": [8], "stem": "small", "head": "pixel",
                                             "bands": 10, "classes": 8, "size": 15]],
            ],
            "optimizer": ["type": "adam", "lr": 0.003],
            "micro_batch": 2, "micro_batches": 3, "epochs": 1, "progress_seconds": 1000,
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted])
    }

    /// name → SHA-256 of the raw bytes of every dataset of an HDF5 file (this test target does
    /// not link HDF5; h5py reads it).
    static func datasetDigests(_ path: String) throws -> [String: String] {
        let r = try runProcess("python3", ["-c", """
            import h5py, hashlib, json, sys
            out = {}
            h5py.File(sys.argv[1], "r").visititems(lambda n, o: out.__setitem__(n, hashlib.sha256(o[()].tobytes()).hexdigest())
                                                  if isinstance(o, h5py.Dataset) else None)
            print(json.dumps(out))
            """, path])
        guard r.status == 0, let j = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: String] else {
            throw TestSetupError("reading \(path) with h5py failed: \(r.stderr)")
        }
        return j
    }
}
