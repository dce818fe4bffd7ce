import DataIO
import Foundation
import TestSupport
import XCTest

/// Synthetic shards and run configs for the trainer's end-to-end tests (real rstrain under
/// real mpirun).
enum TrainingRun {
    static let rootOK = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                         "OMPI_MCA_btl_vader_single_copy_mechanism": "none"]

    /// A scratch directory with two small synthetic Sentinel-2 shards (made once per process).
    static let data: String = {
        let dir = NSTemporaryDirectory() + "rstrain-train-\(UUID().uuidString)"
        let r = try! runProcess(try! rstrainBinary(), ["synth", "--preset", "sentinel2", "--out", dir + "/data", "--shards", "2",
                                                       "--tiles-per-shard", "1", "--size", "128", "--seed", "3"], timeout: 120)
        precondition(r.status == 0, "synth failed: \(r.stderr)")
        return dir
    }()

    /// A config (written to `dir/name.json`) training two tiny models on the two shards.
    static func config(_ name: String, runDir: String, extra: [String: Any] = [:], data: [String: Any] = [:]) throws -> String {
        var d: [String: Any] = ["shards": [TrainingRun.data + "/data/shard_000", TrainingRun.data + "/data/shard_001"],
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
        let path = TrainingRun.data + "/\(name).json"
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func mpirun(_ n: Int, _ args: [String], timeout: TimeInterval = 300) throws -> ProcessResult {
        guard onPath("mpirun") else { throw XCTSkip("mpirun is not on PATH") }
        return try runProcess("mpirun", ["--oversubscribe", "--allow-run-as-root", "-n", "\(n)", try rstrainBinary()] + args,
                              environment: rootOK, timeout: timeout)
    }

    /// Every dataset of an HDF5 weights file, as bit patterns.
    static func weights(_ path: String) throws -> [String: [UInt32]] {
        let f = try HDF5File(path)
        defer { try? f.close() }
        var out: [String: [UInt32]] = [:]
        for name in try f.datasetNames() { out[name] = try f.readFloats(name).map(\.bitPattern) }
        return out
    }
}
