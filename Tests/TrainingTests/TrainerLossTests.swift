import Foundation
import Settings
import TestSupport
import XCTest

/// `"loss": "binary_cross_entropy"` trains through the real trainer: exact on 1 and 2 ranks, and
/// really another loss than the default softmax cross-entropy.
final class TrainerLossTests: XCTestCase {
    func run(_ name: String, loss: String?, ranks: Int) throws -> (weights: [String: [UInt32]], firstLoss: Double) {
        let runDir = try scratch() + "/run"
        var entry: [String: Any] = ["name": "unet", "model": ["arch": "unet", "dims": 2, "bands": 10, "classes": 8, "filters": 4, "levels": 2]]
        if let loss { entry["loss"] = loss }
        let config = try TrainingRun.config(name, runDir: runDir, extra: ["models": [entry]])
        let r = try TrainingRun.mpirun(ranks, [config])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let lines = try String(contentsOfFile: runDir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let first = try XCTUnwrap(lines.lazy.compactMap { JSONValue.foundationObject(Data($0.utf8)) }.first { $0["type"] as? String == "step" })
        return (try TrainingRun.weights(runDir + "/final/unet.h5"), try XCTUnwrap(first["loss"] as? Double))
    }

    func testBinaryCrossEntropyIsExactAcrossRanksAndNotTheDefaultLoss() throws {
        let one = try run("bce1", loss: "binary_cross_entropy", ranks: 1)
        let two = try run("bce2", loss: "binary_cross_entropy", ranks: 2)
        XCTAssertEqual(one.weights, two.weights, "exact mode: the same weights on 1 and 2 ranks")
        let ce = try run("ce", loss: nil, ranks: 1)
        XCTAssertNotEqual(one.weights, ce.weights)
        // At initialisation the 8-class softmax cross-entropy is near ln 8 ≈ 2.08; eight
        // independent sigmoids near ln 2 ≈ 0.69 each.
        XCTAssertLessThan(one.firstLoss, 1.2, "binary cross-entropy per class")
        XCTAssertGreaterThan(ce.firstLoss, 1.6, "softmax cross-entropy over 8 classes")
    }
}
