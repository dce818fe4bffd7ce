import Settings
import XCTest
@testable import Engine
@testable import Models

final class DenseNetTests: XCTestCase {
    /// torchvision's counts (3 bands, 1000 classes, bias-free convs): densenet121 7,978,856,
    /// densenet169 14,149,480, densenet201 20,013,928, densenet161 (growth 48, 96 stem filters)
    /// 28,681,000 — the same numbers from a throwaway PyTorch re-statement of the torchvision
    /// classes (torchvision is not installed here).
    func testCountsMatchTorchvision() throws {
        func count(_ extra: [String: Any]) throws -> Int {
            try ModelZoo.build(["arch": "densenet", "bands": 3, "classes": 1000].merging(extra) { $1 }, input: [3, 64, 64]).parameterCount
        }
        XCTAssertEqual(try count([:]), 7_978_856)
        XCTAssertEqual(try count(["blocks": [6, 12, 32, 32]]), 14_149_480)
        XCTAssertEqual(try count(["blocks": [6, 12, 48, 32]]), 20_013_928)
        XCTAssertEqual(try count(["growth": 48, "blocks": [6, 12, 36, 24]]), 28_681_000)
        let m = try ModelZoo.build(["arch": "densenet", "bands": 3], input: [3, 64, 64])
        let store = try m.plan().parameters
        let names = Set((store.entries + store.stateEntries).map(\.name))
        for n in ["features.conv0.weight", "features.norm0.running_var", "features.denseblock1.denselayer1.norm1.weight",
                  "features.denseblock1.denselayer6.conv2.weight", "features.transition3.conv.weight",
                  "features.denseblock4.denselayer16.conv1.weight", "features.norm5.bias", "classifier.weight", "classifier.bias"] {
            XCTAssertTrue(names.contains(n), n)
        }
        XCTAssertFalse(names.contains("features.conv0.bias"))
        // Channels: 64 + 6·32 = 256 → 128 → +12·32 = 512 → 256 → +24·32 = 1024 → 512 → +16·32 = 1024.
        XCTAssertEqual(resNetLayerShape(m, "features.denseblock1.denselayer6.cat"), Shape(1, 256, 16, 16))
        XCTAssertEqual(resNetLayerShape(m, "features.transition1.pool"), Shape(1, 128, 8, 8))
        XCTAssertEqual(resNetLayerShape(m, "features.denseblock1.denselayer1.conv1"), Shape(1, 128, 16, 16))   // bn_size · growth
        XCTAssertEqual(resNetLayerShape(m, "features.relu5"), Shape(1, 1024, 2, 2))
    }
}

extension DenseNetTests {
    func testOutputShapes() throws {
        let d = try ModelZoo.build(["arch": "densenet"], batch: 2)
        XCTAssertEqual(d.inputShape, Shape(2, 10, 224, 224))
        XCTAssertEqual(d.outputShape, Shape(2, 10))
        XCTAssertEqual(resNetLayerShape(d, "features.relu5"), Shape(2, 1024, 7, 7))
        // Small stem, two blocks, no bottleneck, compression 0.5: 8 + 2·4 = 16 → 8 → 8 + 3·4 = 20.
        let s = try ModelZoo.build(["arch": "densenet", "stem": "small", "growth": 4, "blocks": [2, 3], "bottleneck": false,
                                    "bands": 4, "classes": 6], batch: 3, input: [4, 8, 8])
        XCTAssertEqual(s.outputShape, Shape(3, 6))
        XCTAssertEqual(resNetLayerShape(s, "features.relu5"), Shape(3, 20, 4, 4))
        XCTAssertEqual(s.graph.nodes.filter { $0.layer is Conv }.count, 1 + 5 + 1)
        XCTAssertEqual(try ModelZoo.build(["arch": "densenet", "stem": "small"]).inputShape, Shape(1, 10, 32, 32))
        // Centre-pixel head, compression 1, regression.
        let px = try ModelZoo.build(["arch": "densenet", "stem": "small", "growth": 4, "blocks": [1, 1], "compression": 1.0,
                                     "init_features": 6, "head": "pixel", "task": "regression", "classes": 2, "dropout": 0.1], input: [10, 9, 9])
        XCTAssertEqual(resNetLayerShape(px, "flatten"), Shape(1, 14))
        XCTAssertEqual(px.outputShape, Shape(1, 2))
        XCTAssertEqual(px.task, .regression)
        // 3D: transitions pool H and W (time with time_stride); 8 + 4 = 12 → 6 → 10 → 5 → 9 channels.
        let v = try ModelZoo.build(["arch": "densenet", "dims": 3, "growth": 4, "blocks": [1, 1, 1], "bands": 3], batch: 2, input: [3, 4, 32, 32])
        XCTAssertEqual(v.outputShape, Shape(2, 10))
        XCTAssertEqual(resNetLayerShape(v, "features.relu5"), Shape(2, 9, 4, 2, 2))
        let vt = try ModelZoo.build(["arch": "densenet", "dims": 3, "growth": 4, "blocks": [1, 1, 1], "bands": 3, "time_stride": true],
                                    input: [3, 4, 32, 32])
        XCTAssertEqual(resNetLayerShape(vt, "features.relu5"), Shape(1, 9, 1, 2, 2))
    }

    func testBadSettingsNameTheKey() {
        func key(_ spec: [String: Any], _ input: [Int]? = nil) -> String? {
            var s = spec; s["arch"] = "densenet"
            do { _ = try ModelZoo.build(s, input: input); return nil } catch let e as ConfigError { return e.key } catch { return "\(error)" }
        }
        XCTAssertEqual(key(["blocks": []]), "blocks")
        XCTAssertEqual(key(["blocks": [6, 0]]), "blocks")
        XCTAssertEqual(key(["stem": "small", "blocks": [1, 1, 1, 1, 1]], [10, 8, 8]), "blocks")   // 8 halves only 3 times
        XCTAssertEqual(key(["compression": 0.0]), "compression")
        XCTAssertEqual(key(["compression": 1.5]), "compression")
        XCTAssertEqual(key(["growth": 0]), "growth")
        XCTAssertEqual(key(["bn_size": -1]), "bn_size")
        XCTAssertEqual(key(["init_features": 0]), "init_features")
        XCTAssertEqual(key(["stem": "so2sat"]), "stem")
        XCTAssertEqual(key(["head": "dense"]), "head")
        XCTAssertEqual(key(["dims": 3], [10, 32, 32]), "dims")
        XCTAssertEqual(key(["bands": 3], [4, 32, 32]), "bands")
        XCTAssertEqual(key(["growth_rate": 12]), "growth_rate")
        XCTAssertEqual(key(["blocks": 6]), "blocks")
    }

    func testGradientsOfATinyDenseNet() throws {
        try ModelCheck.gradients(["arch": "densenet", "stem": "small", "growth": 2, "blocks": [2, 1], "init_features": 3, "bn_size": 2,
                                  "bands": 2, "classes": 3], input: [2, 4, 4])
        try ModelCheck.gradients(["arch": "densenet", "dims": 3, "stem": "small", "growth": 2, "blocks": [1, 1], "init_features": 2,
                                  "bottleneck": false, "head": "pixel", "conv_bias": true, "bands": 2, "classes": 2], input: [2, 2, 4, 4])
    }

    func testLearnsASceneTask() throws {
        let (first, last) = try ModelCheck.train(["arch": "densenet", "stem": "small", "growth": 4, "blocks": [2, 2], "bands": 3, "classes": 3],
                                                 input: [3, 8, 8], steps: 40, lr: 1e-2)
        XCTAssertLessThan(last, 0.3 * first, "loss \(first) → \(last)")
    }

    func testWeightsRoundTrip() throws {
        try ModelCheck.weightsRoundTrip(["arch": "densenet", "stem": "small", "growth": 4, "blocks": [2, 2], "bands": 3], input: [3, 8, 8],
                                        mismatched: ["arch": "densenet", "stem": "small", "growth": 4, "blocks": [2, 3], "bands": 3])
    }
}
