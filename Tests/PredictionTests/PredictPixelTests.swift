import DataIO
import Engine
import Foundation
import Models
import TestSupport
import XCTest
@testable import Experiment
@testable import Prediction

/// `rstrain predict` with a pixel classifier: a tiny TempCNN trained by the real trainer on a
/// synthetic Landsat time series (4 dates, clouds as NODATA), then run on every pixel of a tile.
final class PredictPixelTests: XCTestCase {
    /// The repository (one 48×48 px tile × 4 dates) and run_dir/final/tempcnn.h5 (made once per process).
    static let run: Result<(data: String, weights: String), Error> = Result {
        let dir = try Scratch.shared("predict-ts")
        let s = try runProcess(try rstrainBinary(), ["synth", "--preset", "landsat", "--out", dir + "/data", "--shards", "1",
                                                     "--tiles-per-shard", "1", "--size", "48", "--dates", "4", "--cloud-nodata",
                                                     "--seed", "4"], timeout: 120)
        guard s.status == 0 else { throw TestSetupError("synth failed: \(s.stderr)") }
        let cfg: [String: Any] = [
            "run_dir": dir + "/run", "seed": 1, "reduction": "exact",
            "data": ["kind": "tiles", "shards": [dir + "/data/shard_000"], "window": 16, "labels": "hard",
                     "normalization": ["type": "statistics"]] as [String: Any],
            "models": [["name": "tempcnn", "model": ["arch": "tempcnn", "bands": 6, "dates": 4, "classes": 8, "filters": 4,
                                                    "kernel": 3, "blocks": 1, "dense": 8, "dropout": 0]]],
            "optimizer": ["type": "adam", "lr": 0.003],
            "micro_batch": 2, "micro_batches": 1, "epochs": 1, "progress_seconds": 1000,
        ]
        let path = dir + "/tempcnn.json"
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: path))
        let r = try TrainingRun.mpirun(1, [path])
        guard r.status == 0 else { throw TestSetupError("training failed: \(r.stderr)") }
        return (dir + "/data/shard_000", FinalWeights.path(model: "tempcnn", runDir: dir + "/run"))
    }


    /// The class map covers the tile's grid; a pixel is 255 exactly when some date has NODATA
    /// there (the strict time-series mask), every other pixel has a class < 8; probabilities
    /// sum to 1 and their arg-max is the class.
    func testEveryValidPixelIsClassified() throws {
        let (data, weights) = try Self.run.get(), dir = try scratch()
        let tile = data + "/tile_00", out = dir + "/classes.tif", probs = dir + "/probs.tif"
        // A window that does not divide the tile: the last window row/column overlaps the previous.
        let r = try runProcess(try rstrainBinary(), ["predict", "--checkpoint", weights, "--input", tile, "--output", out,
                                                     "--probabilities", probs, "--window", "20", "--batch", "2"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let dates = try FileManager.default.contentsOfDirectory(atPath: tile).filter { $0.hasPrefix("20") }.sorted()
        XCTAssertEqual(dates.count, 4)
        let first = try Raster(tile + "/" + dates[0] + "/image.tif")
        let (w, h) = (first.width, first.height)
        var masked = [Bool](repeating: false, count: w * h)
        for d in dates {
            let img = try Raster(tile + "/" + d + "/image.tif")
            let v: [Float] = try img.read(x: 0, y: 0, width: w, height: h)
            for b in 0..<img.bandCount {
                let nd = try img.noData(band: b + 1).map(Float.init)
                for p in 0..<(w * h) where v[b * w * h + p] == nd || v[b * w * h + p].isNaN { masked[p] = true }
            }
        }
        let map = try Raster(out), pm = try Raster(probs)
        XCTAssertEqual([map.width, map.height], [w, h])
        let gt = try XCTUnwrap(map.geoTransform), want = try XCTUnwrap(first.geoTransform)
        for i in 0..<6 { XCTAssertEqual(gt[i], want[i], accuracy: 1e-9) }
        let c: [UInt8] = try map.read(x: 0, y: 0, width: w, height: h, as: UInt8.self)
        let p: [Float] = try pm.read(x: 0, y: 0, width: w, height: h)
        XCTAssertEqual(pm.bandCount, 8)
        var classes = Set<UInt8>()
        for q in 0..<(w * h) {
            if masked[q] { XCTAssertEqual(c[q], 255, "pixel \(q) is NODATA at some date but classified"); continue }
            XCTAssertLessThan(c[q], 8, "valid pixel \(q) not classified")
            classes.insert(c[q])
            var sum: Float = 0, best = 0
            for k in 0..<8 {
                sum += p[k * w * h + q]
                if p[k * w * h + q] > p[best * w * h + q] { best = k }
            }
            XCTAssertEqual(sum, 1, accuracy: 1e-4)
            XCTAssertEqual(Int(c[q]), best)
        }
        XCTAssertGreaterThan(masked.filter { $0 }.count, 0, "the clouds should mask some pixels")
        XCTAssertGreaterThan(masked.filter { !$0 }.count, w * h / 4)
    }

    /// The same map whatever the window: each pixel's class depends on its own series only.
    func testWindowDoesNotChangeTheMap() throws {
        let (data, weights) = try Self.run.get(), dir = try scratch()
        let model = try PredictionModel(path: weights)
        let input = try PredictInput(path: data + "/tile_00")
        let a = try ScenePredictor(model: model, window: 16, overlap: 4, batch: 3)
        XCTAssertEqual(a.kind, .pixels)
        XCTAssertEqual(a.overlap, 0)
        let b = try ScenePredictor(model: model, window: 48, batch: 1)
        _ = try a.predict(repository: input.repository, tile: "tile_00", output: dir + "/a.tif", probabilities: dir + "/pa.tif")
        _ = try b.predict(repository: input.repository, tile: "tile_00", output: dir + "/b.tif", probabilities: dir + "/pb.tif")
        let (ra, rb) = (try Raster(dir + "/pa.tif"), try Raster(dir + "/pb.tif"))
        let (w, h) = (ra.width, ra.height)
        let va: [Float] = try ra.read(x: 0, y: 0, width: w, height: h), vb: [Float] = try rb.read(x: 0, y: 0, width: w, height: h)
        var worst: Float = 0, compared = 0
        for q in 0..<va.count {
            XCTAssertEqual(va[q].isNaN, vb[q].isNaN)
            guard !va[q].isNaN else { continue }
            worst = max(worst, abs(va[q] - vb[q]))
            compared += 1
        }
        XCTAssertGreaterThan(compared, 0)
        XCTAssertLessThan(worst, 1e-5)
    }

    /// Probabilities equal the model run directly on single pixels' normalised C×T series
    /// (date order, band-major as training feeds them): catches a wrong pixel → row layout.
    func testProbabilitiesMatchTheModelOnOnePixel() throws {
        let (data, weights) = try Self.run.get(), dir = try scratch()
        let model = try PredictionModel(path: weights)
        let input = try PredictInput(path: data + "/tile_00")
        _ = try ScenePredictor(model: model, window: 16, batch: 2)
            .predict(repository: input.repository, tile: "tile_00", output: dir + "/c.tif", probabilities: dir + "/p.tif")
        let pm = try Raster(dir + "/p.tif")
        let (w, h) = (pm.width, pm.height)
        let probs: [Float] = try pm.read(x: 0, y: 0, width: w, height: h)
        let tile = data + "/tile_00"
        let dates = try FileManager.default.contentsOfDirectory(atPath: tile).filter { $0.hasPrefix("20") }.sorted()
        let series: [[Float]] = try dates.map { d in
            let r = try Raster(tile + "/" + d + "/image.tif")
            return try r.read(x: 0, y: 0, width: w, height: h)
        }
        let (c, t) = (6, dates.count)
        let net = try ModelZoo.build(model.spec, batch: 1, input: [c, t]), ex = try net.plan()
        try WeightsFile.load(ex.parameters, from: weights)
        let (scale, offset) = model.normalization.coefficients(bands: c)
        let x = ex.value(net.input), y = ex.value(net.output)
        var checked = 0, worst: Float = 0
        for q in stride(from: 7, to: w * h, by: 37) where !probs[q].isNaN {
            for b in 0..<c { for d in 0..<t { x.data[b * t + d] = Float(Double(series[d][b * w * h + q]) * scale[b] + offset[b]) } }
            ex.forward(mode: .inference)
            let top = (0..<8).map { y.data[$0] }.max()!
            let e = (0..<8).map { expf(y.data[$0] - top) }, total = e.reduce(0, +)
            for k in 0..<8 { worst = max(worst, abs(e[k] / total - probs[k * w * h + q])) }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 20)
        XCTAssertLessThan(worst, 1e-4)
    }
}
