import Settings
import XCTest
@testable import Engine
@testable import Models

/// The output shape of the layer named `name`.
func resNetLayerShape(_ m: Model, _ name: String, file: StaticString = #filePath, line: UInt = #line) -> Shape? {
    guard let n = m.graph.nodes.first(where: { $0.name == name }) else {
        XCTFail("no layer \(name)", file: file, line: line)
        return nil
    }
    return m.graph.shape(n.output)
}

final class ResNetTests: XCTestCase {
    /// The benchmark's So2SatResNet50 (../shared/bench/torch_bench.py, the So2Sat notebook's
    /// Keras ResNet-50) has 23,553,297 PyTorch parameters for 10 bands and 17 classes.
    func testSo2SatCountMatchesTheBenchmarkReference() throws {
        let spec: [String: Any] = ["arch": "resnet", "variant": "so2sat", "depth": 50, "bands": 10, "classes": 17]
        let m = try ModelZoo.build(spec, batch: 2, input: [10, 32, 32])
        XCTAssertEqual(m.parameterCount, 23_553_297)
        XCTAssertEqual(m.outputShape, Shape(2, 17))
        XCTAssertEqual(try ModelZoo.build(["arch": "resnet", "variant": "so2sat", "bands": 10, "classes": 17]).parameterCount, 23_553_297)
        // Keras geometry: 32 → conv 16 → valid max-pool 7 → 7, 7, 4, 2; the stride on the first 1×1 conv.
        XCTAssertEqual(resNetLayerShape(m, "maxpool"), Shape(2, 64, 7, 7))
        XCTAssertEqual(resNetLayerShape(m, "layer1.0.conv1"), Shape(2, 32, 7, 7))     // the notebook's [32, 32, 256]
        XCTAssertEqual(resNetLayerShape(m, "layer1.1.conv1"), Shape(2, 64, 7, 7))
        XCTAssertEqual(resNetLayerShape(m, "layer2.0.relu"), Shape(2, 512, 7, 7))
        XCTAssertNotNil(m.graph.nodes.first { $0.name == "layer2.0.downsample.0" })   // 256 → 512 at stride 1
        XCTAssertNil(m.graph.nodes.first { $0.name == "layer2.1.downsample.0" })
        XCTAssertEqual(resNetLayerShape(m, "layer3.0.conv1"), Shape(2, 256, 4, 4))
        XCTAssertEqual(resNetLayerShape(m, "layer4.0.relu"), Shape(2, 2048, 2, 2))
        // The reference's convs have biases; without them the 53 convs lose 26,496 biases (counted in PyTorch).
        let noBias = try ModelZoo.build(spec.merging(["conv_bias": false]) { $1 }, input: [10, 32, 32])
        XCTAssertEqual(noBias.parameterCount, 23_553_297 - 26_496)
    }

    /// torchvision's counts (3 bands, 1000 classes, bias-free convs): resnet18 11,689,512,
    /// resnet34 21,797,672, resnet50 25,557,032; video r3d_18 (3×7×7 stem, 3×3×3 basic blocks,
    /// 400 classes) 33,371,472 — the same numbers from a throwaway PyTorch re-statement of the
    /// torchvision classes (torchvision is not installed here).
    func testStandardDepthsMatchTorchvisionCounts() throws {
        func count(_ extra: [String: Any], _ input: [Int] = [3, 64, 64]) throws -> Int {
            try ModelZoo.build(["arch": "resnet", "bands": 3, "classes": 1000].merging(extra) { $1 }, input: input).parameterCount
        }
        XCTAssertEqual(try count(["depth": 18]), 11_689_512)
        XCTAssertEqual(try count(["depth": 34]), 21_797_672)
        XCTAssertEqual(try count(["depth": 50]), 25_557_032)
        XCTAssertEqual(try count(["stages": [2, 2, 2, 2], "block": "basic"]), 11_689_512)
        XCTAssertEqual(try count(["dims": 3, "depth": 18, "classes": 400], [3, 4, 32, 32]), 33_371_472)
        // torchvision's bottleneck strides its 3×3 conv; "first" moves it to the 1×1.
        let m = try ModelZoo.build(["arch": "resnet", "depth": 50, "bands": 3], input: [3, 64, 64])
        XCTAssertEqual(resNetLayerShape(m, "layer2.0.conv1"), Shape(1, 128, 16, 16))
        XCTAssertEqual(resNetLayerShape(m, "layer2.0.conv2"), Shape(1, 128, 8, 8))
        let f = try ModelZoo.build(["arch": "resnet", "depth": 50, "bands": 3, "stride_on": "first"], input: [3, 64, 64])
        XCTAssertEqual(resNetLayerShape(f, "layer2.0.conv1"), Shape(1, 128, 8, 8))
        XCTAssertEqual(f.parameterCount, 25_557_032 - 1000 * 2048 - 1000 + 10 * 2048 + 10)   // default 10 classes
        // torchvision's parameter names.
        let store = try m.plan().parameters
        let names = Set((store.entries + store.stateEntries).map(\.name))
        for n in ["conv1.weight", "bn1.weight", "layer1.0.conv3.weight", "layer1.0.downsample.0.weight",
                  "layer1.0.downsample.1.running_mean", "layer4.2.bn3.bias", "fc.weight", "fc.bias"] {
            XCTAssertTrue(names.contains(n), n)
        }
        XCTAssertFalse(names.contains("conv1.bias"))
    }
}

extension ResNetTests {
    func testOutputShapes() throws {
        // Default: resnet18, imagenet stem, 224×224.
        let r18 = try ModelZoo.build(["arch": "resnet"], batch: 2)
        XCTAssertEqual(r18.inputShape, Shape(2, 10, 224, 224))
        XCTAssertEqual(r18.outputShape, Shape(2, 10))
        XCTAssertEqual(resNetLayerShape(r18, "layer4.1.relu"), Shape(2, 512, 7, 7))
        // Small stem, custom stages, no downsampling, centre-pixel head: 16 features at the centre.
        let px = try ModelZoo.build(["arch": "resnet", "stem": "small", "stages": [1, 1], "widths": [8, 16], "strides": [1, 1],
                                     "head": "pixel", "bands": 4, "classes": 5], batch: 3, input: [4, 9, 9])
        XCTAssertEqual(px.outputShape, Shape(3, 5))
        XCTAssertEqual(resNetLayerShape(px, "center"), Shape(3, 16, 1, 1))
        XCTAssertEqual(px.graph.nodes.filter { $0.layer is MaxPool }.count, 0)
        // With downsampling: 15 → 8 → 4; the centre of the final map.
        let pxd = try ModelZoo.build(["arch": "resnet", "stem": "small", "stages": [1, 1, 1], "widths": [4, 8, 8], "head": "pixel",
                                      "bands": 3, "dropout": 0.3, "task": "regression", "classes": 2], input: [3, 15, 15])
        XCTAssertEqual(pxd.outputShape, Shape(1, 2))
        XCTAssertEqual(resNetLayerShape(pxd, "layer3.0.relu"), Shape(1, 8, 4, 4))
        XCTAssertEqual(pxd.task, .regression)
        XCTAssertNotNil(pxd.graph.nodes.first { $0.layer is Dropout })
        // Bottleneck: 4 × width out.
        let bt = try ModelZoo.build(["arch": "resnet", "block": "bottleneck", "stages": [1, 2], "widths": [4, 8], "stem": "small"], input: [10, 16, 16])
        XCTAssertEqual(resNetLayerShape(bt, "layer2.1.relu"), Shape(1, 32, 8, 8))
        // 3D: the stem and the stages keep the dates; time_stride halves them with the stages.
        let v = try ModelZoo.build(["arch": "resnet", "dims": 3, "depth": 18, "bands": 3], batch: 2, input: [3, 8, 32, 32])
        XCTAssertEqual(v.outputShape, Shape(2, 10))
        XCTAssertEqual(resNetLayerShape(v, "maxpool"), Shape(2, 64, 8, 8, 8))
        XCTAssertEqual(resNetLayerShape(v, "layer4.1.relu"), Shape(2, 512, 8, 1, 1))
        let vt = try ModelZoo.build(["arch": "resnet", "dims": 3, "depth": 18, "bands": 3, "time_stride": true], input: [3, 8, 32, 32])
        XCTAssertEqual(resNetLayerShape(vt, "layer4.1.relu"), Shape(1, 512, 1, 1, 1))
        XCTAssertEqual(try ModelZoo.build(["arch": "resnet", "dims": 3]).inputShape, Shape(1, 10, 8, 224, 224))
        // 3D centre-pixel head: every date of the centre position (4 dates × 8 channels).
        let vp = try ModelZoo.build(["arch": "resnet", "dims": 3, "stem": "small", "stages": [1, 1], "widths": [4, 8], "head": "pixel",
                                     "bands": 2, "classes": 3], batch: 2, input: [2, 4, 7, 7])
        XCTAssertEqual(resNetLayerShape(vp, "flatten"), Shape(2, 32))
        XCTAssertEqual(vp.outputShape, Shape(2, 3))
        // so2sat in 3D: the same network over dates.
        XCTAssertEqual(try ModelZoo.build(["arch": "resnet", "variant": "so2sat", "dims": 3, "classes": 17], input: [10, 3, 32, 32]).outputShape,
                       Shape(1, 17))
    }

    func testBadSettingsNameTheKey() {
        func key(_ spec: [String: Any], _ input: [Int]? = nil) -> String? {
            var s = spec; s["arch"] = "resnet"
            do { _ = try ModelZoo.build(s, input: input); return nil } catch let e as ConfigError { return e.key } catch { return "\(error)" }
        }
        XCTAssertEqual(key(["depth": 101]), "depth")
        XCTAssertEqual(key(["depth": 50, "block": "basic"]), "block")
        XCTAssertEqual(key(["depth": 18, "stages": [2, 2]]), "stages")
        XCTAssertEqual(key(["stages": [2, 0]]), "stages")
        XCTAssertEqual(key(["stages": [1, 1], "widths": [8, 16, 32]]), "widths")
        XCTAssertEqual(key(["strides": [1, 2, 2]]), "strides")
        XCTAssertEqual(key(["block": "wide"]), "block")
        XCTAssertEqual(key(["stem": "huge"]), "stem")
        XCTAssertEqual(key(["head": "segmentation"]), "head")
        XCTAssertEqual(key(["stride_on": "last"]), "stride_on")
        XCTAssertEqual(key(["variant": "so2sat", "stages": [1]]), "stages")
        XCTAssertEqual(key(["variant": "so2sat", "depth": 18]), "depth")
        XCTAssertEqual(key(["variant": "so2sat", "stem": "small"]), "stem")
        XCTAssertEqual(key(["variant": "so2sat"], [10, 4, 4]), "variant")      // too small for the valid max-pool
        XCTAssertEqual(key(["variant": "resnext"]), "variant")
        XCTAssertEqual(key(["dims": 3], [10, 32, 32]), "dims")
        XCTAssertEqual(key(["dims": 1]), "dims")
        XCTAssertEqual(key(["dropout": 1.0]), "dropout")
        XCTAssertEqual(key(["bands": 4], [10, 32, 32]), "bands")
        XCTAssertEqual(key(["conv_bias": 1]), "conv_bias")
        XCTAssertEqual(key(["depht": 18]), "depht")
    }

    func testGradientsOfTinyResNets() throws {
        // Basic blocks, a strided projection, scene head.
        try ModelCheck.gradients(["arch": "resnet", "stem": "small", "stages": [1, 1], "widths": [2, 3], "bands": 2, "classes": 3],
                                 input: [2, 4, 4])
        // Bottleneck with the stride on the first conv, imagenet stem with its pool, biases.
        try ModelCheck.gradients(["arch": "resnet", "block": "bottleneck", "stages": [1, 1], "widths": [1, 2], "stem_width": 2,
                                  "stride_on": "first", "conv_bias": true, "bands": 2, "classes": 2], input: [2, 24, 24])
        // 3D, centre-pixel head, dropout.
        try ModelCheck.gradients(["arch": "resnet", "dims": 3, "stem": "small", "stages": [1], "widths": [2], "head": "pixel",
                                  "dropout": 0.2, "bands": 2, "classes": 2], input: [2, 2, 3, 3])
    }

    func testLearnsASceneTask() throws {
        let (first, last) = try ModelCheck.train(["arch": "resnet", "stem": "small", "stages": [1, 1], "widths": [4, 8], "bands": 3, "classes": 3],
                                                 input: [3, 8, 8], steps: 40, lr: 1e-2)
        XCTAssertLessThan(last, 0.3 * first, "loss \(first) → \(last)")
    }

    func testLearnsWithTheCentrePixelHeadAndIn3D() throws {
        let (first, last) = try ModelCheck.train(["arch": "resnet", "block": "bottleneck", "stem": "small", "stages": [1], "widths": [4],
                                                  "head": "pixel", "bands": 3, "classes": 3], input: [3, 5, 5], steps: 40, lr: 1e-2)
        XCTAssertLessThan(last, 0.3 * first, "loss \(first) → \(last)")
        let (f3, l3) = try ModelCheck.train(["arch": "resnet", "dims": 3, "stem": "small", "stages": [1], "widths": [4],
                                             "bands": 2, "classes": 2, "task": "regression"], input: [2, 3, 4, 4], steps: 40, lr: 1e-2)
        XCTAssertLessThan(l3, 0.3 * f3, "loss \(f3) → \(l3)")
    }

    func testWeightsRoundTrip() throws {
        try ModelCheck.weightsRoundTrip(["arch": "resnet", "stem": "small", "block": "bottleneck", "stages": [1, 1], "widths": [2, 4], "bands": 3],
                                        input: [3, 8, 8],
                                        mismatched: ["arch": "resnet", "stem": "small", "block": "bottleneck", "stages": [1, 1], "widths": [2, 5], "bands": 3])
    }
}
