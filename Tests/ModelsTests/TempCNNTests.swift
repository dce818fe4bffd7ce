import Settings
import XCTest
@testable import Engine
@testable import Models
import Benchmarks

final class TempCNNTests: XCTestCase {
    /// The benchmark workload's spec has the PyTorch reference's count (TempCNN(10, 24, 10) in
    /// ../shared/bench/torch_bench.py: 441,290 parameters).
    func testParameterCountMatchesThePyTorchReference() throws {
        let w = try XCTUnwrap(Workload.named("tempcnn"))
        let m = try ModelZoo.build(w.spec, batch: w.batch, input: w.input)
        XCTAssertEqual(m.parameterCount, 441_290)
        XCTAssertEqual(m.parameterCount, w.referenceParams)
        XCTAssertEqual(m.outputShape, Shape(512, 10))
    }

    func testOutputShapesAndNames() throws {
        let m = try ModelZoo.build(["arch": "tempcnn"], batch: 2)
        XCTAssertEqual(m.inputShape, Shape(2, 10, 24))
        XCTAssertEqual(m.outputShape, Shape(2, 10))
        XCTAssertEqual(m.task, .classification)
        let names = Set(m.graph.nodes.map(\.name))
        XCTAssertTrue(names.isSuperset(of: ["features.conv1", "features.bn3", "features.drop3", "fc.linear", "fc.bn", "head"]), "\(names)")
        let small = try ModelZoo.build(["arch": "tempcnn", "bands": 4, "dates": 12, "classes": 3, "filters": 8, "kernel": 3,
                                        "blocks": 1, "dense": 16, "dropout": 0, "task": "regression"], input: [4, 12])
        XCTAssertEqual(small.outputShape, Shape(1, 3))
        XCTAssertEqual(small.task, .regression)
        XCTAssertFalse(small.graph.nodes.contains { $0.name.contains("drop") })
        // 4·8·3+8 + 16 + 8·12·16+16 + 32 + 16·3+3
        XCTAssertEqual(small.parameterCount, 104 + 16 + 1552 + 32 + 51)
    }

    func testBadSettingsNameTheKey() {
        func key(_ spec: [String: Any], _ input: [Int]? = nil) -> String? {
            do { _ = try ModelZoo.build(spec, input: input); return nil } catch let e as ConfigError { return e.key } catch { return "\(error)" }
        }
        XCTAssertNil(key(["arch": "tempcnn"]))
        XCTAssertEqual(key(["arch": "tempcnn", "kernel": 4]), "kernel")
        XCTAssertEqual(key(["arch": "tempcnn", "blocks": 0]), "blocks")
        XCTAssertEqual(key(["arch": "tempcnn", "dense": 0]), "dense")
        XCTAssertEqual(key(["arch": "tempcnn", "dropout": 1.0]), "dropout")
        XCTAssertEqual(key(["arch": "tempcnn", "filters": 2.5]), "filters")
        XCTAssertEqual(key(["arch": "tempcnn", "task": "segmentation"]), "task")
        XCTAssertEqual(key(["arch": "tempcnn", "layers": 3]), "layers")
        XCTAssertEqual(key(["arch": "tempcnn"], [10, 12]), "dates")         // 12 dates, dates is 24
        XCTAssertEqual(key(["arch": "tempcnn"], [10, 24, 24]), "dates")     // not a series
        XCTAssertEqual(key(["arch": "tempcnn"], [6, 24]), "bands")
    }

    /// Batch 4: fc.bn normalises over the batch alone, and over M = 2 samples the check is
    /// fragile (3 of 12 dropout seeds fail at batch 2, none at 4).
    func testGradientsOfATinyTempCNN() throws {
        try ModelCheck.gradients(["arch": "tempcnn", "bands": 2, "dates": 4, "classes": 3, "filters": 2, "kernel": 3,
                                  "blocks": 2, "dense": 4, "dropout": 0.2], input: [2, 4], batch: 4)
    }

    func testLearnsASeriesTask() throws {
        let (first, last) = try ModelCheck.train(["arch": "tempcnn", "bands": 3, "dates": 8, "classes": 3, "filters": 8,
                                                  "dense": 16, "dropout": 0.1], input: [3, 8], steps: 40, lr: 1e-2)
        XCTAssertLessThan(last, 0.5 * first, "loss \(first) → \(last)")
    }

    func testWeightsRoundTrip() throws {
        try ModelCheck.weightsRoundTrip(["arch": "tempcnn", "bands": 3, "dates": 8, "classes": 4, "filters": 4, "dense": 8], input: [3, 8],
                                        mismatched: ["arch": "tempcnn", "bands": 3, "dates": 8, "classes": 4, "filters": 4, "dense": 9])
    }
}
