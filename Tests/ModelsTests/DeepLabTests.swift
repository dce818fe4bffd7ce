import Settings
import XCTest
@testable import Engine
@testable import Models

final class DeepLabTests: XCTestCase {
    /// Counts of a PyTorch reference with the same structure (ResNet-18-style stem and basic
    /// blocks with dilated convs, ASPP of 1×1, dilated 3×3 and image-pooling branches of bias-free
    /// Conv2d + BatchNorm2d, 1×1 projection, 1×1 head, bilinear upsampling), built and counted
    /// with torch 2.15 in a throwaway script. The backbone's share equals torchvision's
    /// ResNet-18 without its fc (11,176,512 for 3 bands).
    func testParameterCountsMatchThePyTorchReference() throws {
        XCTAssertEqual(try ModelZoo.build(["arch": "deeplab", "bands": 3, "classes": 21], input: [3, 64, 64]).parameterCount, 15_313_749)
        XCTAssertEqual(try ModelZoo.build(["arch": "deeplab", "bands": 10, "classes": 10, "output_stride": 8], input: [10, 64, 64]).parameterCount,
                       15_332_874)
        XCTAssertEqual(try ModelZoo.build(["arch": "deeplab", "bands": 4, "classes": 5, "filters": 16, "blocks": [1, 1, 1, 1],
                                           "output_stride": 8, "rates": [2, 4]], input: [4, 32, 32]).parameterCount, 491_429)
    }

    func testOutputShapesAndStrides() throws {
        for os in [8, 16] {
            let m = try ModelZoo.build(["arch": "deeplab", "bands": 4, "classes": 6, "filters": 4, "output_stride": os], batch: 2, input: [4, 64, 96])
            XCTAssertEqual(m.outputShape, Shape(2, 6, 64, 96))
            let cat = m.graph.nodes.first { $0.name == "aspp.cat" }!
            XCTAssertEqual(m.graph.shape(cat.output), Shape(2, 16 * 5, 64 / os, 96 / os))
            let dilations = m.graph.nodes.compactMap { n -> Int? in
                guard n.name.hasPrefix("aspp.b"), let c = n.layer as? Conv else { return nil }
                return c.settings.dilation[0]
            }
            XCTAssertEqual(dilations, os == 16 ? [1, 6, 12, 18] : [1, 12, 24, 36])
            // Stride traded for dilation: layer3 (at 8) and layer4 keep the map size.
            let dilation = { (name: String) in (m.graph.nodes.first { $0.name == name }!.layer as! Conv).settings.dilation[0] }
            XCTAssertEqual(["layer2.0.conv2", "layer3.0.conv1", "layer4.0.conv2"].map(dilation), os == 16 ? [1, 1, 2] : [1, 2, 4])
            let l2 = m.graph.nodes.first { $0.name == "layer2.0.relu2" }!
            XCTAssertEqual(m.graph.shape(l2.output).spatial, [8, 12])
        }
        XCTAssertEqual(try ModelZoo.build(["arch": "deeplab", "filters": 4, "rates": [1], "size": 16, "task": "regression", "classes": 2])
            .outputShape, Shape(1, 2, 16, 16))
    }

    func testBadSettingsNameTheKey() {
        func key(_ spec: [String: Any], _ input: [Int]? = nil) -> String? {
            do { _ = try ModelZoo.build(spec, input: input); return nil } catch let e as ConfigError { return e.key } catch { return "\(error)" }
        }
        XCTAssertEqual(key(["arch": "deeplab", "filters": 4], [10, 40, 40]), "output_stride")     // 40 is not a multiple of 16
        XCTAssertEqual(key(["arch": "deeplab", "filters": 4, "output_stride": 8], [10, 36, 36]), "output_stride")
        XCTAssertEqual(key(["arch": "deeplab", "output_stride": 32]), "output_stride")
        XCTAssertEqual(key(["arch": "deeplab", "rates": []]), "rates")
        XCTAssertEqual(key(["arch": "deeplab", "rates": [6, 0]]), "rates")
        XCTAssertEqual(key(["arch": "deeplab", "blocks": [2, 2, 2]]), "blocks")
        XCTAssertEqual(key(["arch": "deeplab", "aspp_filters": 0]), "aspp_filters")
        XCTAssertEqual(key(["arch": "deeplab", "dropout": 2]), "dropout")
        XCTAssertEqual(key(["arch": "deeplab", "bands": 4], [10, 32, 32]), "bands")
        XCTAssertEqual(key(["arch": "deeplab"], [10, 32]), "input")
    }

    /// In inference mode, where batch norm is an affine map: the whole graph's wiring (dilated
    /// stages, shortcuts, ASPP branches and their concatenation, the broadcast of the pooled
    /// branch, the upsampling) is then piecewise linear, so a larger step (3e-2) lifts the
    /// difference quotients above float32 rounding (this net's every output depends on every
    /// input through the pooled branch). In training mode the batch statistics of 2×2 maps
    /// (and the pooled branch's two values per channel) curve the loss so much that no step
    /// separates curvature from rounding; batch norm's own backward is checked in EngineTests.
    func testGradientsOfATinyDeepLab() throws {
        try ModelCheck.gradients(["arch": "deeplab", "bands": 2, "classes": 2, "filters": 2, "blocks": [1, 1, 1, 1], "output_stride": 8,
                                  "rates": [1, 2], "aspp_filters": 2], input: [2, 16, 16], step: 3e-2, mode: .inference)
        try ModelCheck.gradients(["arch": "deeplab", "bands": 2, "classes": 3, "filters": 2, "blocks": [1, 1, 1, 1], "output_stride": 16,
                                  "rates": [2], "aspp_filters": 3], input: [2, 16, 16], step: 3e-2, mode: .inference)
    }

    /// Per-pixel classes constant on 8×8 tiles (one feature-map cell each at output stride 8;
    /// the bilinear upsampling blurs their borders): a model that keeps only the image-pooling
    /// branch (checked by temporarily feeding the head from it alone) stays above 0.8 × the
    /// first loss.
    func testLearnsAPerPixelTask() throws {
        let (first, last) = try ModelCheck.trainOnTiles(["arch": "deeplab", "bands": 3, "classes": 3, "filters": 4, "blocks": [1, 1, 1, 1],
                                                         "output_stride": 8, "rates": [1, 2]], input: [3, 32, 32], block: 8, steps: 60, lr: 1e-2)
        XCTAssertLessThan(last, 0.5 * first, "loss \(first) → \(last)")
    }

    func testWeightsRoundTrip() throws {
        try ModelCheck.weightsRoundTrip(["arch": "deeplab", "bands": 3, "classes": 4, "filters": 4, "blocks": [1, 1, 1, 1]], input: [3, 32, 32],
                                        mismatched: ["arch": "deeplab", "bands": 3, "classes": 4, "filters": 4, "blocks": [1, 1, 1, 1],
                                                     "aspp_filters": 8])
    }
}
