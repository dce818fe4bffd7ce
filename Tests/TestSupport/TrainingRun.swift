import DataIO
import Foundation
import TestSupport
import XCTest

/// Synthetic shards and run configs for the trainer's end-to-end tests (real rstrain under
/// real mpirun).
public enum TrainingRun {
    public static let rootOK = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                         "OMPI_MCA_btl_vader_single_copy_mechanism": "none"]

    /// A scratch directory with two small synthetic Sentinel-2 shards (made once per process; a
    /// failed synth fails each test that needs them, with synth's message).
    public static var data: String { get throws { try made.get() } }

    private static let made = Result { () throws -> String in
        let dir = try Scratch.shared("train")
        let r = try runProcess(try rstrainBinary(), ["synth", "--preset", "sentinel2", "--out", dir + "/data", "--shards", "2",
                                                     "--tiles-per-shard", "1", "--size", "128", "--seed", "3"], timeout: 120)
        guard r.status == 0 else { throw TestSetupError("synth of the shared shards failed: \(r.stderr)") }
        return dir
    }

    /// A config (written to `dir/name.json`) training two tiny models on the two shards.
    public static func config(_ name: String, runDir: String, extra: [String: Any] = [:], data: [String: Any] = [:]) throws -> String {
        let root = try TrainingRun.data
        var d: [String: Any] = ["shards": [root + "/data/shard_000", root + "/data/shard_001"],
                                "window": 32, "labels": "proportions", "augment": true, "validation_fraction": 0.2]
        d.merge(data) { $1 }
        var json: [String: Any] = [
            "run_dir": runDir, "seed": 5, "reduction": "exact", "data": d,
            "models": [
                ["name": "unet", "model": ["arch": "unet", "dims": 2, "bands": 10, "classes": 8, "filters": 4, "levels": 2, "dropout": 0.1]],
                ["name": "resnet", "model": ["arch": "resnet", "stages": [1], "widths": [8], "stem": "small", "head": "pixel",
                                             "bands": 10, "classes": 8, "size": 15]],
            ],
            "optimizer": ["type": "adam", "lr": 0.003],
            "micro_batch": 2, "micro_batches": 3, "epochs": 1, "progress_seconds": 1000,
        ]
        json.merge(extra) { $1 }
        let path = root + "/\(name).json"
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: path))
        return path
    }

    public static func mpirun(_ n: Int, _ args: [String], timeout: TimeInterval = 300) throws -> ProcessResult {
        guard onPath("mpirun") else { throw XCTSkip("mpirun is not on PATH") }
        return try runProcess("mpirun", ["--oversubscribe", "--allow-run-as-root", "-n", "\(n)", try rstrainBinary()] + args,
                              environment: rootOK, timeout: timeout)
    }

    /// Every dataset of an HDF5 weights file, as bit patterns.
    public static func weights(_ path: String) throws -> [String: [UInt32]] {
        let f = try HDF5File(path)
        defer { try? f.close() }
        var out: [String: [UInt32]] = [:]
        for name in try f.datasetNames() { out[name] = try f.readFloats(name).map(\.bitPattern) }
        return out
    }
}

extension TrainingRun {
    /// Starts `mpirun -n n rstrain args` in the background; output goes to `log`.
    public static func start(_ n: Int, _ args: [String], log: String) throws -> Process {
        guard onPath("mpirun") else { throw XCTSkip("mpirun is not on PATH") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["mpirun", "--oversubscribe", "--allow-run-as-root", "-n", "\(n)", try rstrainBinary()] + args
        var env = ProcessInfo.processInfo.environment.filter { k, _ in !k.hasPrefix("OMPI_") && !k.hasPrefix("PMIX_") }
        env.merge(rootOK) { $1 }
        p.environment = env
        FileManager.default.createFile(atPath: log, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = h
        p.standardError = h
        try p.run()
        return p
    }

    /// Waits until `condition` holds (polling), or fails after `timeout` seconds.
    public static func wait(_ what: String, timeout: Double = 120, _ condition: () -> Bool) throws {
        let end = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < end else { throw TestSetupError("timed out waiting for \(what)") }
            usleep(20_000)
        }
    }

    /// Checkpoint files written so far in a run directory.
    public static func checkpoints(_ runDir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: runDir + "/checkpoints")) ?? []).filter { $0.hasSuffix(".h5") }.sorted()
    }

    /// The pids of the rstrain processes (ranks, not mpirun) running `config`.
    public static func ranks(of config: String) throws -> [Int32] {
        let r = try runProcess("pgrep", ["-f", "^\(try rstrainBinary()) \(config)"])
        return r.stdout.split(separator: "\n").compactMap { Int32($0) }
    }
}
