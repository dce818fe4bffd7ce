import Settings
import XCTest
@testable import Engine
@testable import Models

final class DeepVelTests: XCTestCase {
    /// DeepVel as published (aasensio/deepvel: 2 input frames, 6 outputs, conv 64 → 21 residual
    /// blocks → conv-BN + long skip → 1×1; its model JSON has 45 convolutions): 1,595,014
    /// trainable parameters, from a PyTorch transcription of its `define_network`; and a
    /// 10-band, 1-output, 5-block variant of the same transcription: 413,505.
    func testParameterCountsMatchTheReference() throws {
        let m = try ModelZoo.build(["arch": "deepvel", "bands": 2, "outputs": 6], input: [2, 50, 50])
        XCTAssertEqual(m.parameterCount, 1_595_014)
        XCTAssertEqual(m.outputShape, Shape(1, 6, 50, 50))
        XCTAssertEqual(m.task, .regression)
        XCTAssertEqual(m.graph.nodes.filter { $0.layer is Conv }.count, 45)
        XCTAssertEqual(try ModelZoo.build(["arch": "deepvel", "blocks": 5], input: [10, 16, 16]).parameterCount, 413_505)
    }

    func testOutputShapes() throws {
        XCTAssertEqual(try ModelZoo.build(["arch": "deepvel"], batch: 2).outputShape, Shape(2, 1, 64, 64))
        XCTAssertEqual(try ModelZoo.build(["arch": "deepvel", "bands": 3, "outputs": 2, "blocks": 0], input: [3, 7, 9]).outputShape,
                       Shape(1, 2, 7, 9))
        // Super-resolution: the output grid is `scale`× finer.
        let sr2 = try ModelZoo.build(["arch": "deepvel", "bands": 3, "outputs": 4, "blocks": 2, "scale": 2], batch: 2, input: [3, 8, 12])
        XCTAssertEqual(sr2.outputShape, Shape(2, 4, 16, 24))
        // transposed conv kernel 2, stride 2: 64·64·4 + 64 parameters more than scale 1.
        let sr1 = try ModelZoo.build(["arch": "deepvel", "bands": 3, "outputs": 4, "blocks": 2], input: [3, 8, 12])
        XCTAssertEqual(sr2.parameterCount - sr1.parameterCount, 64 * 64 * 4 + 64)
        XCTAssertEqual(try ModelZoo.build(["arch": "deepvel", "bands": 3, "blocks": 1, "scale": 3, "upsampling": "bilinear"], input: [3, 5, 6]).outputShape,
                       Shape(1, 1, 15, 18))
        let nn4 = try ModelZoo.build(["arch": "deepvel", "bands": 3, "outputs": 5, "blocks": 1, "scale": 4, "upsampling": "nearest",
                                      "task": "classification"], input: [3, 4, 4])
        XCTAssertEqual(nn4.outputShape, Shape(1, 5, 16, 16))
        XCTAssertEqual(nn4.task, .classification)
        XCTAssertEqual(try ModelZoo.build(["arch": "deepvel", "bands": 3, "blocks": 1, "scale": 3, "upsampling": "nearest", "size": 5]).outputShape,
                       Shape(1, 1, 15, 15))
    }

    func testBadSettingsNameTheKey() {
        func key(_ spec: [String: Any], _ input: [Int]? = nil) -> String? {
            do { _ = try ModelZoo.build(spec, input: input); return nil } catch let e as ConfigError { return e.key } catch { return "\(error)" }
        }
        XCTAssertEqual(key(["arch": "deepvel", "scale": 0]), "scale")
        XCTAssertEqual(key(["arch": "deepvel", "scale": 9]), "scale")
        XCTAssertEqual(key(["arch": "deepvel", "blocks": -1]), "blocks")
        XCTAssertEqual(key(["arch": "deepvel", "outputs": 0]), "outputs")
        XCTAssertEqual(key(["arch": "deepvel", "filters": 0]), "filters")
        XCTAssertEqual(key(["arch": "deepvel", "upsampling": "cubic"]), "upsampling")
        XCTAssertEqual(key(["arch": "deepvel", "classes": 3]), "classes")
        XCTAssertEqual(key(["arch": "deepvel"], [10, 24]), "size")          // not an image
        XCTAssertEqual(key(["arch": "deepvel"], [4, 16, 16]), "bands")
    }

    func testGradientsOfATinyDeepVel() throws {
        try ModelCheck.gradients(["arch": "deepvel", "bands": 2, "outputs": 2, "filters": 2, "blocks": 1], input: [2, 4, 4])
        try ModelCheck.gradients(["arch": "deepvel", "bands": 2, "outputs": 2, "filters": 2, "blocks": 1, "scale": 2], input: [2, 3, 3])
        try ModelCheck.gradients(["arch": "deepvel", "bands": 2, "outputs": 1, "filters": 2, "blocks": 0, "scale": 2,
                                  "upsampling": "bilinear", "task": "classification"], input: [2, 3, 3])
    }

    /// The per-pixel target 0.5·(band j − band j+1) must be learnt: the loss ends well below
    /// that of predicting 0 (`blind`), not just below a large initial loss.
    func testLearnsADenseRegression() throws {
        let r = try ModelCheck.training(["arch": "deepvel", "bands": 3, "outputs": 2, "filters": 16, "blocks": 2],
                                        input: [3, 8, 8], steps: 60, lr: 1e-2)
        XCTAssertLessThan(r.last, 0.5 * r.blind, "loss \(r.first) → \(r.last), input-blind \(r.blind)")
    }

    /// Scale 2: each output pixel's target is the band mix at the input pixel it lies in.
    func testLearnsASuperResolutionRegression() throws {
        let r = try ModelCheck.training(["arch": "deepvel", "bands": 3, "outputs": 2, "filters": 16, "blocks": 2, "scale": 2],
                                        input: [3, 6, 6], steps: 60, lr: 1e-2)
        XCTAssertLessThan(r.last, 0.5 * r.blind, "loss \(r.first) → \(r.last), input-blind \(r.blind)")
    }

    func testLearnsADenseClassification() throws {
        let (first, last) = try ModelCheck.train(["arch": "deepvel", "bands": 3, "outputs": 3, "filters": 8, "blocks": 1,
                                                  "task": "classification"], input: [3, 8, 8], steps: 40, lr: 3e-3)
        XCTAssertLessThan(last, 0.5 * first, "loss \(first) → \(last)")
    }

    func testWeightsRoundTrip() throws {
        try ModelCheck.weightsRoundTrip(["arch": "deepvel", "bands": 3, "outputs": 2, "filters": 4, "blocks": 2, "scale": 2], input: [3, 8, 8],
                                        mismatched: ["arch": "deepvel", "bands": 3, "outputs": 2, "filters": 4, "blocks": 2, "scale": 3])
    }
}
