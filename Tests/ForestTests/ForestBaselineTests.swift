import Foundation
import TestSupport
import XCTest
@testable import Forest

/// `rstrain baseline` end to end on the synthetic shards: on 1 rank and under mpirun on 2, it
/// beats chance by far and grows the same forest (per-shard samples and seeds).
final class ForestBaselineTests: XCTestCase {
    static let args = ["--trees", "12", "--samples-per-shard", "4000", "--max-depth", "12", "--seed", "17"]

    func run(_ n: Int, _ name: String) throws -> (dir: String, result: ProcessResult) {
        let dir = try TrainingRun.data + "/runs/\(name)"
        let cfg = try TrainingRun.config(name, runDir: dir, data: ["augment": false])
        let r = n == 1 ? try runProcess(try rstrainBinary(), ["baseline", cfg] + Self.args, timeout: 300)
                       : try TrainingRun.mpirun(n, ["baseline", cfg] + Self.args)
        XCTAssertEqual(r.status, 0, "\(n) ranks:\n\(r.stdout)\n\(r.stderr)")
        return (dir, r)
    }

    func testOneAndTwoRanksGrowTheSameForestAndBeatChance() throws {
        let one = try run(1, "forest1")
        let two = try run(2, "forest2")
        let a = try Data(contentsOf: URL(fileURLWithPath: Baseline.forestPath(runDir: one.dir)))
        let b = try Data(contentsOf: URL(fileURLWithPath: Baseline.forestPath(runDir: two.dir)))
        let file = try JSONDecoder().decode(ForestFile.self, from: a)
        XCTAssertEqual(file.forest.trees.count, 12)
        XCTAssertEqual(file.shards.map(\.name), ["shard_000", "shard_001"])
        XCTAssertEqual(file.shards.map(\.trees).reduce(0, +), 12)
        XCTAssertTrue(file.shards.allSatisfy { $0.pixels == 4000 }, "\(file.shards)")
        XCTAssertEqual(file.forest.features, 10, "one value per band")
        XCTAssertTrue(file.refitLeaves)
        XCTAssertEqual(try JSONDecoder().decode(ForestFile.self, from: b), file, "2 ranks grew another forest")

        for run in [one, two] {
            let m = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run.dir + "/baseline.json"))) as? [String: Any])
            let acc = try XCTUnwrap(m["overall_accuracy"] as? Double), k = try XCTUnwrap(m["classes"] as? Int)
            let pixels = try XCTUnwrap(m["pixels"] as? Int)
            let confusion = try XCTUnwrap(m["confusion"] as? [[Int]])
            XCTAssertEqual(confusion.count, k)
            XCTAssertEqual(confusion.flatMap { $0 }.reduce(0, +), pixels)
            XCTAssertEqual(Double((0..<k).map { confusion[$0][$0] }.reduce(0, +)) / Double(pixels), acc, accuracy: 1e-12)
            XCTAssertGreaterThan(pixels, 1000)
            // Per shard: the shards' validation pixels and hits add up to the totals.
            let shards = try XCTUnwrap(m["shards"] as? [[String: Any]])
            XCTAssertEqual(shards.compactMap { $0["validation_pixels"] as? Int }.reduce(0, +), pixels)
            let hits = shards.map { Double($0["validation_pixels"] as? Int ?? -1) * ($0["validation_accuracy"] as? Double ?? .nan) }.reduce(0, +)
            XCTAssertEqual(hits, Double(m["correct"] as? Int ?? -1), accuracy: 1e-6)
            XCTAssertGreaterThan(acc, 3 / Double(k), "accuracy \(acc) with \(k) classes")
            XCTAssertTrue(run.result.stdout.contains("random_forest: validation accuracy"), run.result.stdout)
            XCTAssertTrue(run.result.stdout.contains("over \(pixels) pixels (chance 1/\(k))"), run.result.stdout)
        }
        // The same validation pixels scored by the same forest: the same counts.
        let m1 = try String(contentsOfFile: one.dir + "/baseline.json"), m2 = try String(contentsOfFile: two.dir + "/baseline.json")
        XCTAssertEqual(m1, m2)
    }

    func testRegressionOnlyDataIsRefused() throws {
        let dir = try TrainingRun.data + "/runs/forest-noclass"
        let cfg = try TrainingRun.config("forest-noclass", runDir: dir, data: ["labels": "none"])
        let r = try runProcess(try rstrainBinary(), ["baseline", cfg] + Self.args, timeout: 120)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue((r.stdout + r.stderr).contains("needs class labels"), r.stdout + r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: Baseline.forestPath(runDir: dir)))
    }
}
