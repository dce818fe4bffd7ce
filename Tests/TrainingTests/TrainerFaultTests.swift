import Foundation
import TestSupport
import XCTest

/// Faults end the job with a message instead of a hang or a silent loss.
final class TrainerFaultTests: XCTestCase {
    let long: [String: Any] = ["epochs": 40, "checkpoint": ["every_steps": 2, "keep": 2]]

    /// kill -9 of one rank ends the whole job, non-zero, within 30 s; re-running resumes.
    func testKilledRankEndsTheJob() throws {
        let dir = try TrainingRun.data + "/runs/rankdeath"
        let cfg = try TrainingRun.config("rankdeath", runDir: dir, extra: long)
        let job = try TrainingRun.start(3, [cfg], log: TrainingRun.data + "/rankdeath.log")
        try TrainingRun.wait("a checkpoint") { !TrainingRun.checkpoints(dir).isEmpty || !job.isRunning }
        let pids = try TrainingRun.ranks(of: cfg)
        XCTAssertEqual(pids.count, 3, "three ranks running")
        kill(try XCTUnwrap(pids.last), SIGKILL)
        let killed = Date()
        try TrainingRun.wait("the job to end", timeout: 30) { !job.isRunning }
        XCTAssertLessThan(Date().timeIntervalSince(killed), 30)
        XCTAssertNotEqual(job.terminationStatus, 0)
        try TrainingRun.wait("the other ranks to exit", timeout: 10) { ((try? TrainingRun.ranks(of: cfg)) ?? []).isEmpty }
        let resumed = try TrainingRun.mpirun(3, [cfg], timeout: 600)
        XCTAssertEqual(resumed.status, 0, resumed.stdout + resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resuming"), resumed.stdout)
    }

    /// A rank that stops answering (SIGSTOP) is named by rank 0, then the job is aborted.
    func testStalledRankIsNamedThenTheJobAborted() throws {
        let dir = try TrainingRun.data + "/runs/stall"
        var extra = long
        extra["watchdog"] = ["warn_seconds": 2, "abort_seconds": 6]
        let cfg = try TrainingRun.config("stall", runDir: dir, extra: extra)
        let log = try TrainingRun.data + "/stall.log"
        let job = try TrainingRun.start(2, [cfg], log: log)
        try TrainingRun.wait("a checkpoint") { !TrainingRun.checkpoints(dir).isEmpty || !job.isRunning }
        let pids = try TrainingRun.ranks(of: cfg)
        XCTAssertEqual(pids.count, 2)
        // Rank 1: the process whose environment says so (Open MPI sets OMPI_COMM_WORLD_RANK).
        let stopped = try XCTUnwrap(pids.first { pid in
            let env = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
            return env.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "OMPI_COMM_WORLD_RANK=1" }
        })
        kill(stopped, SIGSTOP)
        defer { kill(stopped, SIGKILL); kill(stopped, SIGCONT) }
        try TrainingRun.wait("the job to end", timeout: 60) { !job.isRunning }
        XCTAssertNotEqual(job.terminationStatus, 0)
        let text = try String(contentsOfFile: log)
        // Rank 0 names it: at a sync point ("has not reported") or while receiving a model from it.
        XCTAssertTrue(text.contains("rank 1 (") && (text.contains("has not reported") || text.contains("still waiting")), text)
        XCTAssertTrue(text.contains("aborting"), text)
    }

    /// A diverging model stops the run with a message naming model, step and shard; the last
    /// good checkpoint stays.
    func testNonFiniteLossStopsWithAMessage() throws {
        let dir = try TrainingRun.data + "/runs/nan"
        let cfg = try TrainingRun.config("nan", runDir: dir, extra: ["epochs": 3, "optimizer": ["type": "sgd", "lr": 1e30, "momentum": 0]])
        let r = try TrainingRun.mpirun(2, [cfg])
        XCTAssertNotEqual(r.status, 0)
        let text = r.stdout + r.stderr
        XCTAssertTrue(text.contains("not finite") && text.contains("step") && text.contains("shard_00"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/final/unet.h5"))
    }

    /// Each rank opens only its own shards: the two ranks run in different working directories,
    /// each holding only its shard (as two hosts' local disks); a rank that tried to open the
    /// other's shard would fail.
    func testRanksOpenOnlyTheirOwnShards() throws {
        guard onPath("mpirun") else { throw XCTSkip("mpirun is not on PATH") }
        let root = try TrainingRun.data + "/local"
        let fm = FileManager.default
        for (host, shard) in [("a", "shard_000"), ("b", "shard_001")] {
            try fm.createDirectory(atPath: "\(root)/\(host)", withIntermediateDirectories: true)
            try? fm.createSymbolicLink(atPath: "\(root)/\(host)/\(shard)", withDestinationPath: TrainingRun.data + "/data/\(shard)")
        }
        let cfg = try TrainingRun.config("local", runDir: root + "/run", data: ["shards": [["path": "shard_000", "ranks": [0]], ["path": "shard_001", "ranks": [1]]]])
        let exe = try rstrainBinary()
        let r = try runProcess("mpirun", ["--oversubscribe", "--allow-run-as-root", "-n", "1", "-wdir", root + "/a", exe, cfg, ":",
                                          "-n", "1", "-wdir", root + "/b", exe, cfg], environment: TrainingRun.rootOK, timeout: 300)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(fm.fileExists(atPath: root + "/run/final/unet.h5"))
        // And the same config with the ranks swapped fails, naming the shard it cannot find.
        let swapped = try TrainingRun.config("local-swapped", runDir: root + "/run2", data: ["shards": [["path": "shard_000", "ranks": [1]], ["path": "shard_001", "ranks": [0]]]])
        let bad = try runProcess("mpirun", ["--oversubscribe", "--allow-run-as-root", "-n", "1", "-wdir", root + "/a", exe, swapped, ":",
                                            "-n", "1", "-wdir", root + "/b", exe, swapped], environment: TrainingRun.rootOK, timeout: 120)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stdout.contains("shard_001") && bad.stdout.contains("does not exist"), bad.stdout + bad.stderr)
    }

    /// A shard path with `{rank}` (or `{host}`) names each owner's local copy: rank 0 finds
    /// shard_000 under r0/, rank 1 shard_001 under r1/, and neither has the other's.
    func testShardPathTemplates() throws {
        let root = try TrainingRun.data + "/templated"
        let fm = FileManager.default
        for (rank, shard) in [(0, "shard_000"), (1, "shard_001")] {
            try fm.createDirectory(atPath: "\(root)/r\(rank)", withIntermediateDirectories: true)
            try? fm.createSymbolicLink(atPath: "\(root)/r\(rank)/\(shard)", withDestinationPath: TrainingRun.data + "/data/\(shard)")
        }
        let cfg = try TrainingRun.config("templated", runDir: root + "/run", data: ["shards": [
            ["path": root + "/r{rank}/shard_000", "name": "a", "ranks": [0]],
            ["path": root + "/r{rank}/shard_001", "name": "b", "ranks": [1]]]])
        let r = try TrainingRun.mpirun(2, [cfg])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(fm.fileExists(atPath: root + "/run/final/unet.h5"))
    }
}
