import Settings
import XCTest
@testable import Engine
@testable import Models

final class FCNTests: XCTestCase {
    /// Counts of a PyTorch reference with the same structure (VGG stages of Conv2d with bias
    /// [+ BatchNorm2d], fc6/fc7 convs, 1×1 score convs, ConvTranspose2d(k 2s, stride s, pad s/2,
    /// no bias)), built and counted with torch 2.15 in a throwaway script.
    func testParameterCountsMatchThePyTorchReference() throws {
        // FCN-8s on VGG-16 without BN, 3 bands, 21 classes: the paper's layer sizes (VGG-16 convs
        // 14,714,688 + fc6 102,764,544 + fc7 16,781,312 + scores and deconvs 229,215).
        let paper = try ModelZoo.build(["arch": "fcn", "bands": 3, "classes": 21, "batch_norm": false], input: [3, 64, 64])
        XCTAssertEqual(paper.parameterCount, 134_489_759)
        XCTAssertEqual(try ModelZoo.build(["arch": "fcn", "bands": 3, "classes": 21], input: [3, 64, 64]).parameterCount, 134_514_591)
        XCTAssertEqual(try ModelZoo.build(["arch": "fcn", "bands": 3, "classes": 21, "variant": "32s"], input: [3, 64, 64]).parameterCount,
                       136_177_749)
        XCTAssertEqual(try ModelZoo.build(["arch": "fcn", "bands": 10, "classes": 10, "filters": 16, "depth": 4, "variant": "16s"],
                                          input: [10, 64, 64]).parameterCount, 7_995_732)
        XCTAssertEqual(try ModelZoo.build(["arch": "fcn", "bands": 10, "classes": 10, "filters": 16, "depth": 4, "fc": 256, "fc_kernel": 3,
                                           "batch_norm": false], input: [10, 64, 64]).parameterCount, 853_150)
        XCTAssertEqual(try ModelZoo.build(["arch": "fcn", "bands": 2, "classes": 3, "filters": 4, "depth": 1, "variant": "32s", "fc": 8,
                                           "fc_kernel": 1], input: [2, 8, 8]).parameterCount, 555)
    }

    func testOutputShapes() throws {
        for v in ["32s", "16s", "8s"] {
            let m = try ModelZoo.build(["arch": "fcn", "bands": 4, "classes": 6, "filters": 4, "fc": 16, "variant": v], batch: 2, input: [4, 64, 96])
            XCTAssertEqual(m.outputShape, Shape(2, 6, 64, 96), v)
        }
        let m = try ModelZoo.build(["arch": "fcn", "filters": 4, "depth": 3, "fc": 8, "size": 16])
        XCTAssertEqual(m.outputShape, Shape(1, 10, 16, 16))
        // 8s at depth 3: scores of pool2 and pool1 fused, then ×2.
        XCTAssertEqual(m.graph.nodes.filter { $0.layer is Add }.map(\.name), ["fuse_pool2", "fuse_pool1"])
        XCTAssertEqual(m.graph.nodes.filter { $0.layer is ConvTranspose }.map(\.name), ["upscore2", "upscore_pool2", "upscore"])
        XCTAssertEqual(try ModelZoo.build(["arch": "fcn", "filters": 4, "depth": 2, "fc": 8, "variant": "16s", "task": "regression",
                                           "classes": 2], input: [10, 12, 8]).outputShape, Shape(1, 2, 12, 8))
    }

    func testBadSettingsNameTheKey() {
        func key(_ spec: [String: Any], _ input: [Int]? = nil) -> String? {
            do { _ = try ModelZoo.build(spec, input: input); return nil } catch let e as ConfigError { return e.key } catch { return "\(error)" }
        }
        XCTAssertEqual(key(["arch": "fcn", "filters": 4], [10, 48, 48]), "depth")          // 48 does not halve 5 times
        XCTAssertEqual(key(["arch": "fcn", "depth": 9]), "depth")
        XCTAssertEqual(key(["arch": "fcn", "depth": 2, "variant": "8s"]), "variant")        // needs pool1 and pool0
        XCTAssertEqual(key(["arch": "fcn", "depth": 1, "variant": "16s"]), "variant")
        XCTAssertEqual(key(["arch": "fcn", "variant": "4s"]), "variant")
        XCTAssertEqual(key(["arch": "fcn", "fc": 0]), "fc")
        XCTAssertEqual(key(["arch": "fcn", "fc_kernel": 4]), "fc_kernel")
        XCTAssertEqual(key(["arch": "fcn", "dropout": -0.1]), "dropout")
        XCTAssertEqual(key(["arch": "fcn", "classes": 0]), "classes")
        XCTAssertEqual(key(["arch": "fcn", "bands": 3], [10, 32, 32]), "bands")
        XCTAssertEqual(key(["arch": "fcn", "depth": 1, "variant": "32s"], [10, 8]), "input")
    }

    func testGradientsOfATinyFCN() throws {
        try ModelCheck.gradients(["arch": "fcn", "bands": 2, "classes": 2, "filters": 2, "depth": 2, "variant": "16s", "fc": 3,
                                  "fc_kernel": 3, "batch_norm": false, "dropout": 0], input: [2, 4, 4])
        try ModelCheck.gradients(["arch": "fcn", "bands": 2, "classes": 2, "filters": 2, "depth": 3, "variant": "8s", "fc": 3,
                                  "fc_kernel": 1, "dropout": 0.2], input: [2, 8, 8])
    }

    /// Per-pixel classes constant on 4×4 tiles, finer than the score map (stride 8 at depth 3):
    /// FCN-8s must use its pool1/pool2 skips to learn them; the same net as FCN-32s (no skips)
    /// stays at about 0.9 × the first loss.
    func testLearnsAPerPixelTask() throws {
        let spec: [String: Any] = ["arch": "fcn", "bands": 3, "classes": 3, "filters": 4, "depth": 3, "fc": 16, "fc_kernel": 3, "dropout": 0]
        let (first, last) = try ModelCheck.trainOnTiles(spec, input: [3, 16, 16], block: 4, steps: 60, lr: 1e-2)
        XCTAssertLessThan(last, 0.3 * first, "loss \(first) → \(last)")
        let (first32, last32) = try ModelCheck.trainOnTiles(spec.merging(["variant": "32s"]) { $1 }, input: [3, 16, 16], block: 4,
                                                            steps: 60, lr: 1e-2)
        XCTAssertGreaterThan(last32, 0.6 * first32, "loss \(first32) → \(last32): FCN-32s cannot resolve tiles finer than its stride")
    }

    func testWeightsRoundTrip() throws {
        try ModelCheck.weightsRoundTrip(["arch": "fcn", "bands": 3, "classes": 4, "filters": 4, "depth": 3, "fc": 8], input: [3, 16, 16],
                                        mismatched: ["arch": "fcn", "bands": 3, "classes": 4, "filters": 4, "depth": 3, "fc": 9])
    }
}
