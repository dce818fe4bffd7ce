import Foundation
import TestSupport
import XCTest

/// `rstrain eval --config`: a run's final weights scored on its validation set agree exactly
/// with the trainer's own final validation, on one rank or two.
final class EvalRunTests: XCTestCase {
    /// A data-parallel run of one epoch: its final validation covers every shard's held-out
    /// windows with the final weights, so it is what eval must reproduce (trained once per
    /// process; a failed run fails each test that needs it, with the run's output).
    static let run: Result<(config: String, dir: String), Error> = Result {
        let dir = try TrainingRun.data + "/runs/eval-dp"
        let cfg = try TrainingRun.config("eval-dp", runDir: dir, extra: ["mode": "data_parallel", "epochs": 1])
        let r = try TrainingRun.mpirun(2, [cfg])
        guard r.status == 0 else { throw TestSetupError("training failed:\n\(r.stdout)\n\(r.stderr)") }
        return (cfg, dir)
    }

    func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any], path)
    }

    /// The trainer's final validation record of `model`: (correct, counted).
    func logged(_ model: String) throws -> (correct: Int, counted: Int) {
        let lines = try String(contentsOfFile: try Self.run.get().dir + "/metrics.jsonl").split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let finals = lines.filter { $0["type"] as? String == "validation" && $0["model"] as? String == model && $0["final"] as? Bool == true }
        XCTAssertEqual(finals.count, 1, "\(model): final validation records \(finals)")
        let f = try XCTUnwrap(finals.first)
        XCTAssertEqual(Set(f["shards"] as? [String] ?? []), ["shard_000", "shard_001"])
        return (Int(try XCTUnwrap(f["correct"] as? Double)), Int(try XCTUnwrap(f["counted"] as? Double)))
    }

    func testOverallAccuracyIsTheTrainersFinalValidation() throws {
        guard onPath("mpirun") else { throw XCTSkip("mpirun is not on PATH") }
        let (config, _) = try Self.run.get()
        let one = try TrainingRun.data + "/eval-one", two = try TrainingRun.data + "/eval-two"
        let r1 = try TrainingRun.mpirun(1, ["eval", "--config", config, "--out", one])
        XCTAssertEqual(r1.status, 0, r1.stdout + r1.stderr)
        let r2 = try TrainingRun.mpirun(2, ["eval", "--config", config, "--out", two])
        XCTAssertEqual(r2.status, 0, r2.stdout + r2.stderr)
        for model in ["unet", "resnet"] {
            let (correct, counted) = try logged(model)
            XCTAssertGreaterThan(counted, 0)
            let m = try json("\(one)/\(model)/metrics.json")
            let confusion = try XCTUnwrap(m["confusion"] as? [[Int]])
            let k = confusion.count
            XCTAssertEqual(k, 8)
            let diag = (0..<k).reduce(0) { $0 + confusion[$1][$1] }
            XCTAssertEqual(diag, correct, model)
            XCTAssertEqual(m["pixels"] as? Int, counted, model)
            // The counts above prove the agreement; the ratio, read back from JSON, to 1e-12.
            XCTAssertEqualAfterJSON(m["overall_accuracy"] as? Double, Double(correct) / Double(counted), model)
            // The two shards' matrices make up the whole one.
            let shards = try XCTUnwrap(m["shards"] as? [[String: Any]])
            XCTAssertEqual(shards.map { $0["shard"] as? String }, ["shard_000", "shard_001"])
            let parts = try shards.map { try XCTUnwrap($0["confusion"] as? [[Int]]) }
            XCTAssertEqual((0..<k).map { r in (0..<k).map { c in parts[0][r][c] + parts[1][r][c] } }, confusion, model)
            XCTAssertTrue(shards.allSatisfy { ($0["pixels"] as? Int ?? 0) > 0 }, "\(shards)")
            // Two ranks, each scoring its own shard, sum to the same counts.
            XCTAssertEqual(try json("\(two)/\(model)/metrics.json")["confusion"] as? [[Int]], confusion, model)
            for f in ["metrics.csv", "confusion.csv", "confusion.svg", "shards.csv", "report.html"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: "\(one)/\(model)/\(f)"), f)
            }
            let csv = try String(contentsOfFile: "\(one)/\(model)/confusion.csv").split(separator: "\n")
            XCTAssertEqual(csv.count, k + 1)
        }
        XCTAssertTrue(r1.stdout.contains("overall accuracy"), r1.stdout)
        // The closing comparison: one row per model with its pixels and overall accuracy.
        let table = try XCTUnwrap(r1.stdout.components(separatedBy: "models compared").last, r1.stdout)
        XCTAssertTrue(r1.stdout.contains("models compared"), r1.stdout)
        for model in ["unet", "resnet"] {
            let (correct, counted) = try logged(model)
            let row = table.split(separator: "\n").first { $0.hasPrefix(model + " ") }.map(String.init) ?? ""
            XCTAssertTrue(row.contains(" \(counted) ") && row.contains(String(format: "%.4f", Double(correct) / Double(counted))), table)
        }
    }

    /// One model, default output directory, with the soft agreement: the majority figures are
    /// unchanged and the soft accuracy is its two logged sums' ratio.
    func testSoftAndDefaultOutput() throws {
        guard onPath("mpirun") else { throw XCTSkip("mpirun is not on PATH") }
        let (config, dir) = try Self.run.get()
        let r = try TrainingRun.mpirun(1, ["eval", "--config", config, "--model", "unet", "--soft", "--json"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let printed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        let m = try json(dir + "/eval/unet/metrics.json")
        XCTAssertEqual(m["model"] as? String, "unet")
        let confusion = try XCTUnwrap(m["confusion"] as? [[Int]], "\(m)")
        XCTAssertEqual(printed["confusion"] as? [[Int]], confusion)
        let (correct, counted) = try logged("unet")
        XCTAssertEqual(confusion.indices.reduce(0) { $0 + confusion[$1][$1] }, correct)
        XCTAssertEqual(m["pixels"] as? Int, counted)
        // The counts prove the agreement; ratios and sums of proportions, read back from JSON, to 1e-12.
        XCTAssertEqualAfterJSON(m["overall_accuracy"] as? Double, Double(correct) / Double(counted))
        let agreed = try XCTUnwrap(m["soft_agreed"] as? Double), mass = try XCTUnwrap(m["soft_mass"] as? Double)
        XCTAssertGreaterThan(mass, 0)
        XCTAssertLessThanOrEqual(agreed, mass)
        XCTAssertEqualAfterJSON(m["soft_accuracy"] as? Double, agreed / mass)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/eval/resnet"))
        // The classes are named by the first shard's shard.json (synth's sentinel2 table).
        let manifest = try json(TrainingRun.data + "/data/shard_000/shard.json")
        let names = try XCTUnwrap(manifest["classes"] as? [[String: Any]]).map { $0["name"] as? String }
        XCTAssertEqual(names.count, 8)
        XCTAssertEqual(names.first, "water")
        XCTAssertEqual((m["class_names"] as? [String]).map { $0.map(Optional.some) }, names)
        XCTAssertEqual((m["per_class"] as? [[String: Any]])?.map { $0["name"] as? String }, names)
        XCTAssertTrue(try String(contentsOfFile: dir + "/eval/unet/confusion.csv").hasPrefix("reference\\predicted,water,"))
    }

    func testUnknownModelMissingWeightsHardLabelsAndMissingConfigAreRefused() throws {
        guard onPath("mpirun") else { throw XCTSkip("mpirun is not on PATH") }
        let (config, runDir) = try Self.run.get()
        let r = try TrainingRun.mpirun(1, ["eval", "--config", config, "--model", "vgg"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no model named 'vgg'"), r.stderr)
        let cfg = try TrainingRun.config("eval-untrained", runDir: TrainingRun.data + "/runs/eval-untrained")
        let u = try TrainingRun.mpirun(2, ["eval", "--config", cfg, "--model", "unet"])
        XCTAssertNotEqual(u.status, 0)
        XCTAssertTrue(u.stderr.contains("eval-untrained/final/unet.h5"), u.stderr)
        // Hard labels have no proportions to agree with.
        let hard = try TrainingRun.config("eval-hard", runDir: runDir, data: ["labels": "hard"])
        let h = try TrainingRun.mpirun(1, ["eval", "--config", hard, "--soft"])
        XCTAssertNotEqual(h.status, 0)
        XCTAssertTrue(h.stderr.contains("--soft needs proportions"), h.stderr)
        let missing = try TrainingRun.mpirun(1, ["eval", "--config", TrainingRun.data + "/none.json"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("none.json' does not exist"), missing.stderr)
    }
}
