import DataIO
import Engine
import Foundation
import Models
import TestSupport
import XCTest
@testable import Experiment
@testable import Prediction

/// `rstrain predict` with a patch classifier: the tests' tiny ResNet ("head": "pixel", 15×15
/// patches) trained by the real trainer on synthetic Sentinel-2 tiles, run on the patch
/// centred on every pixel.
final class PredictPatchTests: XCTestCase {
    static let weights: Result<String, Error> = Result {
        let run = try TrainingRun.data + "/predict-patch-run"
        let resnet: [String: Any] = ["name": "resnet", "model": ["arch": "resnet", "stages": [1], "widths": [8], "stem": "small",
                                                                 "head": "pixel", "bands": 10, "classes": 8, "size": 15]]
        let cfg = try TrainingRun.config("predict-patch", runDir: run, extra: ["models": [resnet]])
        let r = try TrainingRun.mpirun(1, [cfg])
        guard r.status == 0 else { throw TestSetupError("training failed: \(r.stderr)") }
        return FinalWeights.path(model: "resnet", runDir: run)
    }

    static var tile: String { get throws { try TrainingRun.data + "/data/shard_000/tile_00" } }


    /// Every pixel's scores come from its own centred patch: windows of 32 px (overlap raised
    /// to 14) and one 128 px window give the same probabilities everywhere — a patch cut off
    /// centre would reach past the kept part of the small windows and differ.
    func testEveryPixelSeesItsCentredPatch() throws {
        let dir = try scratch(), model = try PredictionModel(path: try Self.weights.get())
        let input = try PredictInput(path: Self.tile)
        let a = try ScenePredictor(model: model, window: 32, overlap: 4, batch: 2)
        XCTAssertEqual(a.kind, .patches(size: 15))
        XCTAssertEqual(a.overlap, 14)
        let b = try ScenePredictor(model: model, window: 128, batch: 1)
        let sa = try a.predict(repository: input.repository, tile: "tile_00", output: dir + "/a.tif", probabilities: dir + "/pa.tif")
        let sb = try b.predict(repository: input.repository, tile: "tile_00", output: dir + "/b.tif", probabilities: dir + "/pb.tif")
        XCTAssertEqual(sa.classified, sb.classified)
        let (ra, rb) = (try Raster(dir + "/pa.tif"), try Raster(dir + "/pb.tif"))
        let (w, h) = (ra.width, ra.height)
        let va: [Float] = try ra.read(x: 0, y: 0, width: w, height: h), vb: [Float] = try rb.read(x: 0, y: 0, width: w, height: h)
        var worst: Float = 0, compared = 0
        for q in 0..<va.count {
            XCTAssertEqual(va[q].isNaN, vb[q].isNaN, "mask differs at \(q)")
            guard !va[q].isNaN else { continue }
            worst = max(worst, abs(va[q] - vb[q]))
            compared += 1
        }
        XCTAssertGreaterThan(compared, w * h * 8 / 2)
        XCTAssertLessThan(worst, 1e-4)
    }

    /// The CLI's class map: the tile's grid, classes < 8, NODATA 255 where the input is.
    func testClassMap() throws {
        let weights = try Self.weights.get(), dir = try scratch(), out = dir + "/classes.tif"
        let r = try runProcess(try rstrainBinary(), ["predict", "--checkpoint", weights, "--input", Self.tile, "--output", out], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let src = try Raster(Self.tile + "/B02.tif"), map = try Raster(out)
        XCTAssertEqual([map.width, map.height], [src.width, src.height])
        let (w, h) = (map.width, map.height)
        let c: [UInt8] = try map.read(x: 0, y: 0, width: w, height: h, as: UInt8.self)
        let b02: [Float] = try src.read(x: 0, y: 0, width: w, height: h)
        let nd = Float(try XCTUnwrap(try src.noData(band: 1)))
        var masked = 0
        for p in 0..<(w * h) {
            XCTAssertTrue(c[p] < 8 || c[p] == 255, "class \(c[p]) at pixel \(p)")
            if b02[p] == nd { masked += 1; XCTAssertEqual(c[p], 255, "input NODATA at pixel \(p) is not NODATA in the map") }
        }
        XCTAssertGreaterThan(masked, 0)
        XCTAssertGreaterThan(c.filter { $0 < 8 }.count, w * h / 2)
    }

    /// Probabilities equal the model run directly on the 15×15 patch centred on a pixel (rows
    /// and columns p − 7 … p + 7 of the tile read and normalised as one 128 px window, outside
    /// the tile 0): catches a patch cut off centre, which the window test alone may not (this
    /// ResNet's pooling ignores a 15 px patch's last row and column).
    func testProbabilitiesMatchTheModelOnOnePatch() throws {
        let weights = try Self.weights.get(), dir = try scratch(), model = try PredictionModel(path: weights)
        let input = try PredictInput(path: Self.tile)
        let predictor = try ScenePredictor(model: model, window: 32, batch: 2)
        _ = try predictor.predict(repository: input.repository, tile: "tile_00", output: dir + "/c.tif", probabilities: dir + "/p.tif")
        let pm = try Raster(dir + "/p.tif")
        let (w, h) = (pm.width, pm.height)
        XCTAssertEqual([w, h], [128, 128])
        let probs: [Float] = try pm.read(x: 0, y: 0, width: w, height: h)

        var options = predictor.tileOptions
        options.windowSize = 128
        options.stride = 128
        let grid = try WindowGrid(input.repository, options: options)
        let reader = WindowReader(grid: grid)
        defer { reader.close() }
        let sample = reader.makeSample()
        _ = try reader.read(WindowRef(tile: 0, x: 0, y: 0, size: 128), into: sample)
        let (scale, offset) = model.normalization.coefficients(bands: 10)
        let n = 128 * 128
        func value(_ c: Int, _ x: Int, _ y: Int) -> Float {
            guard x >= 0, y >= 0, x < 128, y < 128, sample.mask.data[y * 128 + x] != 0 else { return 0 }
            return Float(Double(sample.image.data[c * n + y * 128 + x]) * scale[c] + offset[c])
        }
        let net = try ModelZoo.build(model.spec, batch: 1, input: [10, 15, 15]), ex = try net.plan()
        try WeightsFile.load(ex.parameters, from: weights)
        let xin = ex.value(net.input), yout = ex.value(net.output)
        var checked = 0, worst: Float = 0
        // Pixels near the tile's edges and in the interior.
        for q in Array(stride(from: 0, to: n, by: 97)) + [0, 1, 127, 128 * 127, n - 1] where !probs[q].isNaN {
            let (px, py) = (q % 128, q / 128)
            for c in 0..<10 { for y in 0..<15 { for x in 0..<15 { xin.data[(c * 15 + y) * 15 + x] = value(c, px - 7 + x, py - 7 + y) } } }
            ex.forward(mode: .inference)
            let top = (0..<8).map { yout.data[$0] }.max()!
            let e = (0..<8).map { expf(yout.data[$0] - top) }, total = e.reduce(0, +)
            for k in 0..<8 { worst = max(worst, abs(e[k] / total - probs[k * n + q])) }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 50)
        XCTAssertLessThan(worst, 1e-4)
    }
}
