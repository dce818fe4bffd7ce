import Settings
import XCTest
@testable import Engine
@testable import Models

final class UNetTests: XCTestCase {
    /// The benchmark's reference U-Nets (../shared/bench/torch_bench.py) have these exact
    /// PyTorch parameter counts; equal counts mean the same architecture.
    func testParameterCountsMatchThePyTorchReference() throws {
        let u64 = try ModelZoo.build(["arch": "unet", "filters": 16, "levels": 3, "bands": 10, "classes": 10], input: [10, 64, 64])
        XCTAssertEqual(u64.parameterCount, 484_602)
        let u256 = try ModelZoo.build(["arch": "unet", "filters": 16, "levels": 4, "bands": 10, "classes": 10], input: [10, 256, 256])
        XCTAssertEqual(u256.parameterCount, 1_945_210)
        let u3 = try ModelZoo.build(["arch": "unet", "dims": 3, "filters": 8, "levels": 2, "bands": 10, "classes": 10], input: [10, 8, 64, 64])
        XCTAssertEqual(u3.parameterCount, 87_362)
        XCTAssertEqual(u3.outputShape, Shape(1, 10, 64, 64))
    }
}

extension UNetTests {
    func testOutputShapes() throws {
        XCTAssertEqual(try ModelZoo.build(["arch": "unet"], batch: 2, input: [10, 32, 32]).outputShape, Shape(2, 10, 32, 32))
        XCTAssertEqual(try ModelZoo.build(["arch": "unet", "bands": 4, "classes": 6, "levels": 2, "crop": 4], input: [4, 32, 48]).outputShape,
                       Shape(1, 6, 24, 40))
        XCTAssertEqual(try ModelZoo.build(["arch": "unet", "dims": 3, "bands": 3, "time_collapse": "conv", "upsampling": "bilinear"],
                                          input: [3, 4, 16, 16]).outputShape, Shape(1, 10, 16, 16))
        // auto levels: 64 halves to 8 three times; 8 dates halve to 2 twice.
        let u = try ModelZoo.build(["arch": "unet", "dims": 3, "bands": 10], input: [10, 8, 64, 64])
        XCTAssertEqual(u.graph.nodes.filter { $0.name.hasPrefix("pool") }.count, 2)
        XCTAssertEqual(try ModelZoo.build(["arch": "unet"], input: [10, 64, 64]).graph.nodes.filter { $0.name.hasPrefix("pool") }.count, 3)
    }

    func testBadSettingsNameTheKey() {
        func key(_ spec: [String: Any], _ input: [Int]? = nil) -> String? {
            do { _ = try ModelZoo.build(spec, input: input); return nil } catch let e as ConfigError { return e.key } catch { return "\(error)" }
        }
        XCTAssertEqual(key(["arch": "unet", "filterz": 16]), "filterz")
        XCTAssertEqual(key(["arch": "unet", "filters": "16"]), "filters")
        XCTAssertEqual(key(["arch": "unet", "dims": 4]), "dims")
        XCTAssertEqual(key(["arch": "unet", "levels": 4], [10, 40, 40]), "levels")    // 40 does not halve 4 times
        XCTAssertEqual(key(["arch": "unet", "upsampling": "cubic"]), "upsampling")
        XCTAssertEqual(key(["arch": "unet", "bands": 4], [10, 32, 32]), "bands")
        XCTAssertEqual(key(["arch": "unett"]), "arch")
        XCTAssertEqual(key(["filters": 3]), "arch")
    }

    func testGradientsOfATinyUNet() throws {
        try ModelCheck.gradients(["arch": "unet", "bands": 2, "classes": 3, "filters": 2, "levels": 1, "batch_norm": false], input: [2, 4, 4])
        try ModelCheck.gradients(["arch": "unet", "dims": 3, "bands": 2, "classes": 2, "filters": 2, "levels": 1,
                                  "upsampling": "bilinear", "time_collapse": "conv"], input: [2, 2, 4, 4])
    }

    func testLearnsAPerPixelTask() throws {
        let (first, last) = try ModelCheck.train(["arch": "unet", "bands": 3, "classes": 3, "filters": 4, "levels": 2],
                                                 input: [3, 16, 16], steps: 120, lr: 1e-2)
        XCTAssertLessThan(last, 0.35 * first, "loss \(first) → \(last)")
    }

    func testWeightsRoundTrip() throws {
        try ModelCheck.weightsRoundTrip(["arch": "unet", "bands": 3, "classes": 4, "filters": 4, "levels": 2], input: [3, 16, 16],
                                        mismatched: ["arch": "unet", "bands": 3, "classes": 5, "filters": 4, "levels": 2])
    }
}
