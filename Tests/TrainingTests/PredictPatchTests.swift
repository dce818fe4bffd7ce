import DataIO
import Foundation
import TestSupport
import Training
import XCTest

/// `rstrain predict` with a patch classifier: the tests' tiny ResNet ("head": "pixel", 15×15
/// patches) trained by the real trainer on synthetic Sentinel-2 tiles, run on the patch
/// centred on every pixel.
final class PredictPatchTests: XCTestCase {
    static let weights: Result<String, Error> = Result {
        let run = TrainingRun.data + "/predict-patch-run"
        let resnet: [String: Any] = ["name": "resnet", "model": ["arch": "resnet", "stages": [1], "widths": [8], "stem": "small",
                                                                 "head": "pixel", "bands": 10, "classes": 8, "size": 15]]
        let cfg = try TrainingRun.config("predict-patch", runDir: run, extra: ["models": [resnet]])
        let r = try TrainingRun.mpirun(1, [cfg])
        guard r.status == 0 else { throw TestSetupError("training failed: \(r.stderr)") }
        return FinalWeights.path(model: "resnet", runDir: run)
    }

    static var tile: String { TrainingRun.data + "/data/shard_000/tile_00" }

    func scratch() throws -> String {
        let d = NSTemporaryDirectory() + "rstrain-predict-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

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
}
