import Settings
import XCTest
@testable import Engine
@testable import Models

final class PixelTwoBranchTests: XCTestCase {
    /// Counts of a PyTorch transcription of Alquimodelia's `Pixel_model` (tesselo/alquimodelia,
    /// pixel.py: BN → two branches [Conv1D 64 relu, BN, Dropout .25, Conv1D 64 relu, BN,
    /// MaxPool] → concat → Dropout .5 → Dense 100 relu → BN → Dense), trainable parameters as
    /// PyTorch counts them (Keras lists the batch norms' moving statistics too, as non-trainable).
    func testParameterCountsMatchAlquimodelia() throws {
        // Alquimodelia's own layers (valid convolutions), long kernel ⌈24/2⌉ = 12: 143,538.
        let valid = try ModelZoo.build(["arch": "pixel_twobranch", "padding": "valid"], input: [10, 24])
        XCTAssertEqual(valid.parameterCount, 143_538)
        XCTAssertEqual(valid.graph.nodes.first { $0.name == "long.conv1" }.map { valid.graph.shape($0.output) }, Shape(1, 64, 13))
        // Alquimodelia's rule applied to min(bands, dates) = 10 gives 5 for a 10 × 24 input: 155,186.
        XCTAssertEqual(try ModelZoo.build(["arch": "pixel_twobranch", "padding": "valid", "long_kernel": 5], input: [10, 24]).parameterCount,
                       155_186)
        // "same" padding (the default), long kernel 24/2 rounded up to odd = 13: 231,474.
        let same = try ModelZoo.build(["arch": "pixel_twobranch"], input: [10, 24])
        XCTAssertEqual(same.parameterCount, 231_474)
        XCTAssertEqual(same.graph.nodes.first { $0.name == "long.conv2" }.map { same.graph.shape($0.output) }, Shape(1, 64, 24))
        XCTAssertEqual(try ModelZoo.build(["arch": "pixel_twobranch", "bands": 4, "dates": 12, "classes": 3], input: [4, 12]).parameterCount,
                       121_699)
    }

    func testAutoLongKernel() throws {
        func lk(_ t: Int, _ padding: String) throws -> Int {
            try PixelTwoBranch.longKernel(ModelSpec(["arch": "pixel_twobranch", "dates": t, "padding": padding]).params)
        }
        XCTAssertEqual(try [2, 3, 4, 6, 10, 12, 24, 25].map { try lk($0, "same") }, [1, 1, 3, 3, 5, 7, 13, 13])
        XCTAssertEqual(try [6, 7, 10, 24, 25].map { try lk($0, "valid") }, [3, 4, 5, 12, 13])
    }

    func testOutputShapes() throws {
        let m = try ModelZoo.build(["arch": "pixel_twobranch"], batch: 3)
        XCTAssertEqual(m.inputShape, Shape(3, 10, 24))
        XCTAssertEqual(m.outputShape, Shape(3, 10))
        let r = try ModelZoo.build(["arch": "pixel_twobranch", "bands": 2, "dates": 3, "classes": 4, "task": "regression",
                                    "conv_dropout": 0, "dropout": 0], batch: 2, input: [2, 3])
        XCTAssertEqual(r.outputShape, Shape(2, 4))
        XCTAssertEqual(r.task, .regression)
        XCTAssertFalse(r.graph.nodes.contains { $0.name.contains("drop") })
        // Valid, the long branch left with one date: no pooling there.
        let v = try ModelZoo.build(["arch": "pixel_twobranch", "bands": 2, "dates": 7, "padding": "valid"], input: [2, 7])
        XCTAssertEqual(v.outputShape, Shape(1, 10))
        XCTAssertNil(v.graph.nodes.first { $0.name == "long.pool" })
        XCTAssertNotNil(v.graph.nodes.first { $0.name == "short.pool" })
    }

    func testBadSettingsNameTheKey() {
        func key(_ spec: [String: Any], _ input: [Int]? = nil) -> String? {
            do { _ = try ModelZoo.build(spec, input: input); return nil } catch let e as ConfigError { return e.key } catch { return "\(error)" }
        }
        XCTAssertNil(key(["arch": "pixel_twobranch"]))
        XCTAssertEqual(key(["arch": "pixel_twobranch", "kernel": 4]), "kernel")              // even with "same"
        XCTAssertEqual(key(["arch": "pixel_twobranch", "long_kernel": 12]), "long_kernel")   // even with "same"
        XCTAssertEqual(key(["arch": "pixel_twobranch", "long_kernel": 0]), "long_kernel")
        XCTAssertEqual(key(["arch": "pixel_twobranch", "dates": 1], [10, 1]), "dates")
        XCTAssertNil(key(["arch": "pixel_twobranch", "padding": "valid", "kernel": 12]))                  // 24 − 22 = 2 dates left
        XCTAssertEqual(key(["arch": "pixel_twobranch", "padding": "valid", "kernel": 13]), "kernel")       // 24 − 24 = 0
        XCTAssertEqual(key(["arch": "pixel_twobranch", "padding": "valid", "long_kernel": 13]), "long_kernel")
        XCTAssertEqual(key(["arch": "pixel_twobranch", "padding": "causal"]), "padding")
        XCTAssertEqual(key(["arch": "pixel_twobranch", "conv_dropout": 1.5]), "conv_dropout")
        XCTAssertEqual(key(["arch": "pixel_twobranch", "dense": 0]), "dense")
        XCTAssertEqual(key(["arch": "pixel_twobranch"], [10, 12]), "dates")
        XCTAssertEqual(key(["arch": "pixel_twobranch"], [3, 24]), "bands")
    }

    func testGradientsOfATinyModel() throws {
        try ModelCheck.gradients(["arch": "pixel_twobranch", "bands": 2, "dates": 6, "classes": 3, "filters": 2, "dense": 4], input: [2, 6])
        try ModelCheck.gradients(["arch": "pixel_twobranch", "bands": 2, "dates": 7, "classes": 2, "filters": 2, "dense": 3,
                                  "padding": "valid", "task": "regression"], input: [2, 7])
    }

    func testLearnsASeriesTask() throws {
        let (first, last) = try ModelCheck.train(["arch": "pixel_twobranch", "bands": 3, "dates": 8, "classes": 3, "filters": 8,
                                                  "dense": 16], input: [3, 8], steps: 40, lr: 1e-2)
        XCTAssertLessThan(last, 0.5 * first, "loss \(first) → \(last)")
    }

    func testWeightsRoundTrip() throws {
        try ModelCheck.weightsRoundTrip(["arch": "pixel_twobranch", "bands": 3, "dates": 8, "classes": 4, "filters": 4, "dense": 8], input: [3, 8],
                                        mismatched: ["arch": "pixel_twobranch", "bands": 3, "dates": 8, "classes": 4, "filters": 4, "dense": 8,
                                                     "long_kernel": 3])
    }
}
