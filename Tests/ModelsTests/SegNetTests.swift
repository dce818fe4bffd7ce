import Settings
import XCTest
@testable import Engine
@testable import Models

final class SegNetTests: XCTestCase {
    /// Counts of a PyTorch reference with the same structure (Conv2d with bias, BatchNorm2d,
    /// MaxPool2d(return_indices) / MaxUnpool2d; decoder stage i mirrors encoder stage i, its last
    /// conv narrowing to stage i−1's channels; the last decoder conv is the classifier), built
    /// and counted with torch 2.15 in a throwaway script.
    func testParameterCountsMatchThePyTorchReference() throws {
        // VGG-16 SegNet, 3 bands, 11 classes (CamVid, as the paper): "about 29.4M".
        let vgg = try ModelZoo.build(["arch": "segnet", "bands": 3, "classes": 11], input: [3, 64, 64])
        XCTAssertEqual(vgg.parameterCount, 29_449_355)
        XCTAssertEqual(vgg.graph.nodes.filter { $0.layer is Conv }.count, 26)
        let small = try ModelZoo.build(["arch": "segnet", "bands": 10, "classes": 10, "filters": 16, "depth": 4], input: [10, 64, 64])
        XCTAssertEqual(small.parameterCount, 960_394)
        let custom = try ModelZoo.build(["arch": "segnet", "bands": 4, "classes": 6, "filters": 8, "depth": 3, "convs": [1, 2, 1],
                                         "batch_norm": false, "head_kernel": 1], input: [4, 32, 32])
        XCTAssertEqual(custom.parameterCount, 16_582)
    }

    func testOutputShapes() throws {
        XCTAssertEqual(try ModelZoo.build(["arch": "segnet", "filters": 8], batch: 2, input: [10, 64, 96]).outputShape, Shape(2, 10, 64, 96))
        XCTAssertEqual(try ModelZoo.build(["arch": "segnet", "bands": 4, "classes": 6, "filters": 4, "depth": 2, "dropout": 0.5],
                                          input: [4, 12, 8]).outputShape, Shape(1, 6, 12, 8))
        let r = try ModelZoo.build(["arch": "segnet", "bands": 2, "classes": 1, "filters": 4, "depth": 1, "task": "regression",
                                    "size": 8])
        XCTAssertEqual(r.outputShape, Shape(1, 1, 8, 8))
        XCTAssertEqual(r.task, .regression)
        // Each unpool reads its own encoder stage's pool input.
        let m = try ModelZoo.build(["arch": "segnet", "filters": 4, "depth": 3], input: [10, 16, 16])
        for i in 1...3 {
            let unpool = m.graph.nodes.first { $0.name == "unpool\(i)" }!, pool = m.graph.nodes.first { $0.name == "pool\(i)" }!
            XCTAssertEqual(unpool.inputs[1], pool.inputs[0])
            XCTAssertEqual(m.graph.shape(unpool.output), m.graph.shape(pool.inputs[0]))
        }
    }

    func testBadSettingsNameTheKey() {
        func key(_ spec: [String: Any], _ input: [Int]? = nil) -> String? {
            do { _ = try ModelZoo.build(spec, input: input); return nil } catch let e as ConfigError { return e.key } catch { return "\(error)" }
        }
        XCTAssertEqual(key(["arch": "segnet", "filters": 8], [10, 40, 40]), "depth")      // 40 does not halve 5 times
        XCTAssertEqual(key(["arch": "segnet", "depth": 0]), "depth")
        XCTAssertEqual(key(["arch": "segnet", "depth": 3, "convs": [2, 2]]), "convs")
        XCTAssertEqual(key(["arch": "segnet", "depth": 2, "convs": [2, 0]]), "convs")
        XCTAssertEqual(key(["arch": "segnet", "head_kernel": 5]), "head_kernel")
        XCTAssertEqual(key(["arch": "segnet", "dropout": 1.0]), "dropout")
        XCTAssertEqual(key(["arch": "segnet", "filters": 0]), "filters")
        XCTAssertEqual(key(["arch": "segnet", "task": "detection"]), "task")
        XCTAssertEqual(key(["arch": "segnet", "bands": 4], [10, 32, 32]), "bands")
        XCTAssertEqual(key(["arch": "segnet", "depth": 1], [10, 4, 4, 4]), "input")
        XCTAssertEqual(key(["arch": "segnet", "kernel": 3]), "kernel")
    }

    /// Unpooling routes by argmax, a kink the check skips (via the pools' argmax pattern).
    func testGradientsOfATinySegNet() throws {
        try ModelCheck.gradients(["arch": "segnet", "bands": 2, "classes": 3, "filters": 2, "depth": 2, "convs": [1, 1],
                                  "batch_norm": false], input: [2, 4, 4])
        try ModelCheck.gradients(["arch": "segnet", "bands": 2, "classes": 2, "filters": 2, "depth": 1, "convs": [2],
                                  "head_kernel": 1, "dropout": 0.3], input: [2, 4, 4])
    }

    /// Per-pixel classes constant on 4×4 tiles (the deepest pool's cells): a model that loses
    /// the spatial layout (checked by temporarily averaging the decoder's output over the image)
    /// stays above 0.8 × the first loss.
    func testLearnsAPerPixelTask() throws {
        let (first, last) = try ModelCheck.trainOnTiles(["arch": "segnet", "bands": 3, "classes": 3, "filters": 4, "depth": 2],
                                                        input: [3, 16, 16], block: 4, steps: 80, lr: 1e-2)
        XCTAssertLessThan(last, 0.5 * first, "loss \(first) → \(last)")
    }

    func testWeightsRoundTrip() throws {
        try ModelCheck.weightsRoundTrip(["arch": "segnet", "bands": 3, "classes": 4, "filters": 4, "depth": 2], input: [3, 16, 16],
                                        mismatched: ["arch": "segnet", "bands": 3, "classes": 4, "filters": 4, "depth": 2, "convs": [2, 3]])
    }
}
