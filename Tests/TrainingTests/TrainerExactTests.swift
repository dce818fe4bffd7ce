import DataIO
import Foundation
import TestSupport
import XCTest

/// Exact mode end to end: the final weights depend only on the config — not on the number of
/// ranks, nor on a kill -9 and resume (on the same or another number of ranks).
final class TrainerExactTests: XCTestCase {
    func run(_ n: Int, _ name: String, extra: [String: Any] = [:]) throws -> (dir: String, result: ProcessResult) {
        let dir = try TrainingRun.data + "/runs/\(name)"
        let cfg = try TrainingRun.config(name, runDir: dir, extra: extra)
        let r = try TrainingRun.mpirun(n, [cfg])
        XCTAssertEqual(r.status, 0, "\(n) ranks:\n\(r.stdout)\n\(r.stderr)")
        return (dir, r)
    }

    func testOneTwoThreeRanksGiveBitIdenticalWeights() throws {
        let one = try run(1, "exact1")
        let two = try run(2, "exact2")
        let three = try run(3, "exact3")
        for model in ["unet", "resnet"] {
            let a = try TrainingRun.weights("\(one.dir)/final/\(model).h5")
            XCTAssertFalse(a.isEmpty)
            XCTAssertEqual(try TrainingRun.weights("\(two.dir)/final/\(model).h5"), a, "\(model): 2 ranks differ from 1")
            XCTAssertEqual(try TrainingRun.weights("\(three.dir)/final/\(model).h5"), a, "\(model): 3 ranks differ from 1")
        }
        // Round-robin: each model visited both shards; the log shows the final validation.
        let schedule = try String(contentsOfFile: "\(two.dir)/schedule.jsonl").split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        for model in ["unet", "resnet"] {
            let shards = schedule.filter { $0["model"] as? String == model && $0["steps"] as? Int ?? 0 > 0 }.flatMap { $0["shards"] as? [String] ?? [] }
            XCTAssertEqual(Set(shards), ["shard_000", "shard_001"], "\(model) visited \(shards)")
        }
        XCTAssertTrue(two.result.stdout.contains("validation accuracy"), two.result.stdout)
        // The final weights say how the model saw the data (h5py reads it): spec, bands, statistics.
        guard onPath("python3") else { return }
        let py = try runProcess("python3", ["-c", """
            import h5py, json, sys
            f = h5py.File(sys.argv[1], "r")
            m = json.loads(f.attrs["rstrain_model"]); d = json.loads(f.attrs["rstrain_data"]); n = json.loads(f.attrs["rstrain_normalization"])
            print(m["arch"], len(d["bands"]), d["bands"][0], d["window"], d["classes"], n["type"], len(n["mean"]))
            """, "\(two.dir)/final/unet.h5"])
        XCTAssertEqual(py.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "unet 10 B02 32 8 statistics 10", py.stderr)
    }

    /// Fast mode: the all-reduce overlapped with backward (bucket by bucket, non-blocking) gives
    /// the same weights as the chunked one after backward — on 2 ranks each element is one
    /// addition, a + b, whatever the order; and fast differs from exact only by rounding.
    func testFastModeOverlappedOrNot() throws {
        let chunked = try run(2, "fast2", extra: ["reduction": "fast"])
        let overlapped = try run(2, "fast2-overlap", extra: ["reduction": "fast", "overlap_allreduce": true])
        for model in ["unet", "resnet"] {
            let a = try TrainingRun.weights("\(chunked.dir)/final/\(model).h5")
            XCTAssertFalse(a.isEmpty)
            XCTAssertEqual(try TrainingRun.weights("\(overlapped.dir)/final/\(model).h5"), a, model)
        }
    }

    /// Data-parallel mode: both models in sequence on all ranks, micro-batches from both shards
    /// in proportion to their size; also placement-free. With a timeline, every rank writes a
    /// Chrome trace of its compute, data waits, syncs and transfers.
    func testDataParallelIsPlacementFreeAndTraced() throws {
        let dp: [String: Any] = ["mode": "data_parallel", "micro_batches": 4, "round_fraction": 0.5]
        let one = try run(1, "dp1", extra: dp)
        var traced = dp
        traced["timeline"] = true
        let three = try run(3, "dp3", extra: traced)
        for model in ["unet", "resnet"] {
            XCTAssertEqual(try TrainingRun.weights("\(three.dir)/final/\(model).h5"), try TrainingRun.weights("\(one.dir)/final/\(model).h5"), model)
        }
        let schedule = try String(contentsOfFile: "\(three.dir)/schedule.jsonl").split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(schedule.filter { $0["steps"] != nil }.map { $0["model"] as? String }, ["unet", "resnet"], "one model per round")
        XCTAssertEqual(schedule.first?["ranks"] as? [Int], [0, 1, 2])
        for rank in 0..<3 {
            var text = try String(contentsOfFile: "\(three.dir)/timeline/rank-\(rank).json").trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.hasSuffix("]") { text += "]" }
            let events = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
            let cats = Set(events.compactMap { $0["cat"] as? String })
            XCTAssertTrue(cats.isSuperset(of: ["compute", "data", "sync"]), "rank \(rank): \(cats)")
            XCTAssertTrue(events.contains { ($0["pid"] as? Int) == rank })
        }
    }
}
