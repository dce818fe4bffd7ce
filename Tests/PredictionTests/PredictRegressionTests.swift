import DataIO
import Foundation
import Models
import TestSupport
import XCTest
@testable import Distributed
@testable import Experiment
@testable import Prediction

/// `rstrain predict` with dense regression models (DeepVel, same grid and super-resolution):
/// a small DeepVel built from its spec, saved as the trainer saves final weights, run over a
/// synthetic Sentinel-2 tile (128×128 px at 10 m, NODATA along the swath edge).
final class PredictRegressionTests: XCTestCase {
    static var tile: String { get throws { try TrainingRun.data + "/data/shard_000/tile_00" } }


    /// A DeepVel (1 residual block: receptive radius 4 px) with `outputs` channels, written to
    /// `dir` with the root attributes the trainer writes.
    func deepvel(scale: Int, outputs: Int = 2, dir: String) throws -> String {
        let spec: [String: Any] = ["arch": "deepvel", "bands": 10, "outputs": outputs, "filters": 4, "blocks": 1, "scale": scale]
        let store = try ModelZoo.build(spec, batch: 1, input: [10, 32, 32]).plan().parameters
        store.initialize(seed: 7)
        func json(_ v: Any) throws -> String { String(decoding: try JSONSerialization.data(withJSONObject: v), as: UTF8.self) }
        return try FinalWeights.write(store, model: "deepvel", runDir: dir, attributes: [
            "rstrain_model": try json(spec),
            "rstrain_data": try json(["kind": "tiles", "classes": 0, "sample": [10, 32, 32], "window": 32, "labels": "proportions",
                                      "resampling": "bilinear", "resolution": NSNull(), "bands": NSNull()] as [String: Any]),
            // Reflectances of a few thousand → about 0.1..1 (keeps the random net's outputs moderate).
            "rstrain_normalization": try json(["type": "affine", "scale": [0.0002], "offset": [0]] as [String: Any]),
        ])
    }

    /// Overlapping 32 px windows (inner borders of 8 px left out, more than the net's radius)
    /// give the values of one 128 px window over the whole tile; the output grid is the tile's,
    /// refined `scale` times; NaN wherever the input is NODATA, on whole input pixels.
    func check(scale s: Int) throws {
        let dir = try scratch()
        let model = try PredictionModel(path: try deepvel(scale: s, dir: dir))
        let input = try PredictInput(path: Self.tile)
        let slid = try ScenePredictor(model: model, window: 32, overlap: 16, batch: 3)
        let one = try ScenePredictor(model: model, window: 128, overlap: 0, batch: 1)
        XCTAssertEqual(slid.factor, s)
        XCTAssertTrue(slid.isRegression)
        let a = try slid.predict(repository: input.repository, tile: "tile_00", output: dir + "/a.tif")
        let b = try one.predict(repository: input.repository, tile: "tile_00", output: dir + "/b.tif")
        XCTAssertEqual(b.windows, 1)
        XCTAssertLessThanOrEqual(a.windows, 49)  // origins 0, 16, …, 96 on each axis; all-NODATA windows skipped
        XCTAssertGreaterThan(a.windows, 25)
        XCTAssertEqual(a.classified, b.classified)

        let src = try Raster(Self.tile + "/B02.tif")  // the 10 m grid: the tile's target grid
        let (ra, rb) = (try Raster(dir + "/a.tif"), try Raster(dir + "/b.tif"))
        let (w, h) = (ra.width, ra.height)
        XCTAssertEqual([w, h], [src.width * s, src.height * s])
        XCTAssertEqual([a.width, a.height], [w, h])
        XCTAssertEqual(ra.bandCount, 2)
        XCTAssertEqual(ra.epsg, src.epsg)
        let gt = try XCTUnwrap(ra.geoTransform), want = try XCTUnwrap(src.geoTransform)
        for i in [0, 2, 3, 4] { XCTAssertEqual(gt[i], want[i], accuracy: 1e-9) }
        XCTAssertEqual(gt[1], want[1] / Double(s), accuracy: 1e-12)
        XCTAssertEqual(gt[5], want[5] / Double(s), accuracy: 1e-12)
        XCTAssertTrue(try XCTUnwrap(try ra.noData(band: 1)).isNaN)

        let va: [Float] = try ra.read(x: 0, y: 0, width: w, height: h), vb: [Float] = try rb.read(x: 0, y: 0, width: w, height: h)
        let b02: [Float] = try src.read(x: 0, y: 0, width: src.width, height: src.height)
        let nd = Float(try XCTUnwrap(try src.noData(band: 1)))
        var masked = 0, compared = 0, worst: Float = 0, spread: Float = 0, first: Float?
        for y in 0..<h {
            for x in 0..<w {
                let p = y * w + x
                // NODATA in B02 (or any band) masks the pixel; an output pixel takes the mask of
                // the input pixel it lies in.
                if b02[(y / s) * src.width + x / s] == nd { masked += 1; XCTAssertTrue(va[p].isNaN, "input NODATA at (\(x), \(y)) has a value") }
                XCTAssertEqual(va[p].isNaN, va[(y - y % s) * w + x - x % s].isNaN, "mask not constant over input pixel (\(x / s), \(y / s))")
                XCTAssertEqual(va[p].isNaN, va[w * h + p].isNaN, "bands masked differently at (\(x), \(y))")
                XCTAssertEqual(va[p].isNaN, vb[p].isNaN, "windows masked differently at (\(x), \(y))")
                // Away from the tile's edges and its NODATA, where zero padding differs.
                guard x >= 8 * s, y >= 8 * s, x < w - 8 * s, y < h - 8 * s, !va[p].isNaN, !vb[p].isNaN else { continue }
                for c in 0..<2 {
                    worst = max(worst, abs(va[c * w * h + p] - vb[c * w * h + p]))
                }
                if let first { spread = max(spread, abs(va[p] - first)) } else { first = va[p] }
                compared += 1
            }
        }
        XCTAssertGreaterThan(masked, 0, "the synthetic tile should have NODATA pixels")
        XCTAssertGreaterThan(compared, (w - 16 * s) * (h - 16 * s) / 2)
        XCTAssertGreaterThan(spread, 1e-3, "the outputs should vary over the tile")
        XCTAssertLessThan(worst, 1e-4, "largest difference between overlapping windows and one window")
    }

    func testRegressionSameGrid() throws { try check(scale: 1) }

    func testSuperResolutionWritesTheFinerGrid() throws { try check(scale: 2) }

    /// The CLI on a regression model: a float32 map; --probabilities is refused by name.
    func testCLI() throws {
        let dir = try scratch(), weights = try deepvel(scale: 1, outputs: 3, dir: dir), out = dir + "/values.tif"
        var r = try runProcess(try rstrainBinary(), ["predict", "--checkpoint", weights, "--input", Self.tile, "--output", out], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let m = try Raster(out)
        XCTAssertEqual(m.bandCount, 3)
        let info = try runProcess("gdalinfo", ["-json", out])
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((o["bands"] as? [[String: Any]])?.first?["type"] as? String, "Float32")
        r = try runProcess(try rstrainBinary(), ["predict", "--checkpoint", weights, "--input", Self.tile, "--output", dir + "/v2.tif",
                                                 "--probabilities", dir + "/p.tif"], timeout: 300)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("regression model"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/v2.tif"))
    }
}
