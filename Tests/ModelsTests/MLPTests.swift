import Settings
import XCTest
@testable import Engine
@testable import Models

final class MLPTests: XCTestCase {
    /// The So2Sat notebook's (seed 004) `simple_model` — Flatten(32, 32, 10) → Dense 128 relu →
    /// Dropout .2 → Dense 17 — and `simple_model_2` (Dense 64, 32): 1,313,041 and 658,065
    /// parameters (Keras's count; the same from a PyTorch transcription).
    func testParameterCountsMatchTheNotebook() throws {
        let m = try ModelZoo.build(["arch": "mlp"])
        XCTAssertEqual(m.inputShape, Shape(1, 10, 32, 32))
        XCTAssertEqual(m.outputShape, Shape(1, 17))
        XCTAssertEqual(m.parameterCount, 1_313_041)
        XCTAssertEqual(try ModelZoo.build(["arch": "mlp", "hidden": [64, 32]]).parameterCount, 658_065)
    }

    func testAcceptsAnyInputShape() throws {
        // A pixel series N×C×T.
        XCTAssertEqual(try ModelZoo.build(["arch": "mlp", "bands": 4, "classes": 5], batch: 2, input: [4, 12]).outputShape, Shape(2, 5))
        // Features N×F: no flatten layer.
        let f = try ModelZoo.build(["arch": "mlp", "bands": 6, "classes": 3, "hidden": [8]], batch: 2, input: [6])
        XCTAssertEqual(f.outputShape, Shape(2, 3))
        XCTAssertFalse(f.graph.nodes.contains { $0.name == "flatten" })
        XCTAssertEqual(f.parameterCount, 6 * 8 + 8 + 8 * 3 + 3)
        // An image time series N×C×T×H×W; a linear model; regression.
        let r = try ModelZoo.build(["arch": "mlp", "bands": 2, "classes": 1, "hidden": [], "task": "regression"], input: [2, 3, 4, 4])
        XCTAssertEqual(r.outputShape, Shape(1, 1))
        XCTAssertEqual(r.parameterCount, 2 * 3 * 16 + 1)
        XCTAssertEqual(r.task, .regression)
        XCTAssertEqual(try ModelZoo.build(["arch": "mlp", "size": 8, "dropout": 0]).inputShape, Shape(1, 10, 8, 8))
    }

    func testBadSettingsNameTheKey() {
        func key(_ spec: [String: Any], _ input: [Int]? = nil) -> String? {
            do { _ = try ModelZoo.build(spec, input: input); return nil } catch let e as ConfigError { return e.key } catch { return "\(error)" }
        }
        XCTAssertEqual(key(["arch": "mlp", "hidden": [64, 0]]), "hidden")
        XCTAssertEqual(key(["arch": "mlp", "hidden": 128]), "hidden")
        XCTAssertEqual(key(["arch": "mlp", "dropout": -0.1]), "dropout")
        XCTAssertEqual(key(["arch": "mlp", "classes": 0]), "classes")
        XCTAssertEqual(key(["arch": "mlp", "size": 0]), "size")
        XCTAssertEqual(key(["arch": "mlp", "units": [3]]), "units")
        XCTAssertEqual(key(["arch": "mlp"], [8, 32, 32]), "bands")
    }

    func testGradientsOfATinyMLP() throws {
        try ModelCheck.gradients(["arch": "mlp", "bands": 2, "classes": 3, "hidden": [4, 3]], input: [2, 3, 3])
    }

    func testLearnsAPatchTask() throws {
        let (first, last) = try ModelCheck.train(["arch": "mlp", "bands": 3, "classes": 3, "hidden": [16]], input: [3, 4, 4],
                                                 steps: 40, lr: 3e-3)
        XCTAssertLessThan(last, 0.3 * first, "loss \(first) → \(last)")
    }

    func testWeightsRoundTrip() throws {
        try ModelCheck.weightsRoundTrip(["arch": "mlp", "bands": 3, "classes": 4, "hidden": [8, 4]], input: [3, 4, 4],
                                        mismatched: ["arch": "mlp", "bands": 3, "classes": 4, "hidden": [8, 5]])
    }
}
