import Settings
import XCTest
@testable import Experiment

/// One type per line of metrics.jsonl: what the trainer writes, every reader reads by the same
/// field names.
final class MetricRecordTests: XCTestCase {
    func roundTrip(_ r: MetricRecord) throws -> MetricRecord {
        // Through the text a file holds, read as every reader reads it.
        let text = try JSONText.encode(r.json)
        return try XCTUnwrap(MetricRecord(json: try XCTUnwrap(JSONValue.foundationObject(Data(text.utf8)))))
    }

    func testStepRecordKeepsEveryField() throws {
        let s = StepRecord(model: "unet", round: 2, step: 5, globalStep: 41, stepsInRound: 14, shard: "a+b", loss: 2247.0 / 5696.0,
                           overallAccuracy: 0.75, samples: 8, seconds: 0.125, allreduceSeconds: 0.0625, dataWaitSeconds: 0.001,
                           time: 1_765_000_000.5)
        guard case .step(let t) = try roundTrip(.step(s)) else { return XCTFail("not a step record") }
        XCTAssertEqual([t.model, t.shard], ["unet", "a+b"])
        XCTAssertEqual([t.round, t.step, t.globalStep, t.stepsInRound, t.samples], [2, 5, 41, 14, 8])
        XCTAssertEqual([t.loss, t.overallAccuracy, t.seconds, t.allreduceSeconds, t.dataWaitSeconds, t.time].map(\.bitPattern),
                       [s.loss, s.overallAccuracy, s.seconds, s.allreduceSeconds, s.dataWaitSeconds, s.time].map(\.bitPattern))
        XCTAssertEqual(s.json["overall_accuracy"] as? Double, 0.75)
        XCTAssertNil(s.json["accuracy"], "one name for the figure: overall_accuracy")
    }

    func testValidationRecordsOfNeuralModelsAndForests() throws {
        let v = ValidationRecord(model: "unet", round: 3, shards: ["a"], loss: 0.5, overallAccuracy: 0.8, lossSum: 50, weight: 100,
                                 correct: 80, counted: 100, final: true)
        guard case .validation(let w) = try roundTrip(.validation(v)) else { return XCTFail("not a validation record") }
        XCTAssertEqual([w.loss, w.overallAccuracy, w.lossSum, w.weight, w.correct, w.counted], [0.5, 0.8, 50, 100, 80, 100])
        XCTAssertTrue(w.final)
        XCTAssertNil(w.forest)
        let f = ValidationRecord(model: "rf", round: 0, shards: ["a", "b"], loss: .nan, overallAccuracy: 0.9, lossSum: .nan, weight: .nan,
                                 correct: 9, counted: 10, final: true,
                                 forest: .init(reused: true, kappa: 0.85, meanIoU: 0.7, trees: 40), time: 5)
        XCTAssertEqual(f.json["arch"] as? String, "random_forest")
        XCTAssertNil(f.json["loss"], "a forest has no loss")
        guard case .validation(let g) = try roundTrip(.validation(f)) else { return XCTFail("not a validation record") }
        XCTAssertEqual(g.forest?.trees, 40)
        XCTAssertEqual(g.forest?.kappa, 0.85)
        XCTAssertEqual(g.forest?.reused, true)
        XCTAssertTrue(g.loss.isNaN)
    }

    func testTransferRecordAndOtherLines() throws {
        let t = TransferRecord(model: "m", round: 1, from: 0, ranks: [2, 3], bytes: 4096, seconds: 0.25, time: 7)
        guard case .transfer(let u) = try roundTrip(.transfer(t)) else { return XCTFail("not a transfer record") }
        XCTAssertEqual(u.ranks, [2, 3])
        XCTAssertEqual(u.bytes, 4096)
        XCTAssertEqual(u.seconds, 0.25)
        XCTAssertEqual(t.json["transfer_seconds"] as? Double, 0.25)
        XCTAssertNil(MetricRecord(json: ["type": "checkpoint"]))
        XCTAssertNil(MetricRecord(json: [:]))
    }
}
