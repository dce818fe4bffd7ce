import DataIO
import Engine
import Foundation
import Models
import TestSupport
import XCTest
@testable import Experiment
@testable import Prediction

/// predict's output options: COG layout, uint8 probabilities, the time-series mask override.
final class PredictOutputTests: XCTestCase {
    /// `--cog`: gdalinfo reports LAYOUT=COG for the class map and probabilities, the classes
    /// and class names are those of the plain GeoTIFF, and no temporary file is left.
    func testCOGLayout() throws {
        let weights = try PredictTests.weights.get(), dir = try scratch()
        func run(_ extra: [String], _ out: String, _ probs: String) throws {
            let r = try runProcess(try rstrainBinary(), ["predict", "--checkpoint", weights, "--input", PredictTests.tile,
                                                         "--output", out, "--probabilities", probs] + extra, timeout: 300)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        try run(["--cog"], dir + "/c.tif", dir + "/p.tif")
        try run([], dir + "/plain.tif", dir + "/plainp.tif")
        for f in ["c.tif", "p.tif"] {
            let info = try gdalInfo(dir + "/" + f)
            let layout = ((info["metadata"] as? [String: Any])?["IMAGE_STRUCTURE"] as? [String: Any])?["LAYOUT"] as? String
            XCTAssertEqual(layout, "COG", f)
            XCTAssertFalse(((info["bands"] as? [[String: Any]])?.first?["overviews"] as? [Any] ?? []).isEmpty, "\(f) has no overviews")
        }
        let plain = try gdalInfo(dir + "/plain.tif")
        XCTAssertNotEqual(((plain["metadata"] as? [String: Any])?["IMAGE_STRUCTURE"] as? [String: Any])?["LAYOUT"] as? String, "COG")
        let (a, b) = (try Raster(dir + "/c.tif"), try Raster(dir + "/plain.tif"))
        let ca: [UInt8] = try a.read(x: 0, y: 0, width: a.width, height: a.height, as: UInt8.self)
        let cb: [UInt8] = try b.read(x: 0, y: 0, width: b.width, height: b.height, as: UInt8.self)
        XCTAssertEqual(ca, cb)
        let names = (try gdalInfo(dir + "/c.tif")["bands"] as? [[String: Any]])?.first?["categories"] as? [String]
        XCTAssertEqual(names?.count, 8)
        XCTAssertEqual(names, (try gdalInfo(dir + "/plain.tif")["bands"] as? [[String: Any]])?.first?["categories"] as? [String])
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp") }
        XCTAssertEqual(left, [])
    }

    /// `--probabilities-type uint8`: each stored byte is round(p·254) of the float32 output
    /// (|b/254 − p| ≤ 1/508, plus float rounding), NODATA exactly where the float is NaN, and
    /// GDAL reports the band scale 1/254.
    func testUInt8Probabilities() throws {
        let weights = try PredictTests.weights.get(), dir = try scratch(), model = try PredictionModel(path: weights)
        let input = try PredictInput(path: PredictTests.tile)
        let p = try ScenePredictor(model: model, window: 32, overlap: 8, batch: 2)
        _ = try p.predict(repository: input.repository, tile: "tile_00", output: dir + "/c.tif", probabilities: dir + "/f.tif")
        p.outputOptions = RasterOutputOptions(cog: true, probabilities: .uint8)
        _ = try p.predict(repository: input.repository, tile: "tile_00", output: dir + "/c8.tif", probabilities: dir + "/u.tif")
        let (rf, ru) = (try Raster(dir + "/f.tif"), try Raster(dir + "/u.tif"))
        XCTAssertEqual(ru.bandCount, 8)
        let f: [Float] = try rf.read(x: 0, y: 0, width: rf.width, height: rf.height)
        let u: [UInt8] = try ru.read(x: 0, y: 0, width: ru.width, height: ru.height, as: UInt8.self)
        XCTAssertEqual(f.count, u.count)
        var nodata = 0, worst: Float = 0, high = 0
        for q in 0..<f.count {
            if f[q].isNaN { XCTAssertEqual(u[q], 255, "value \(q)"); nodata += 1; continue }
            XCTAssertLessThanOrEqual(u[q], 254)
            worst = max(worst, abs(Float(u[q]) / 254 - f[q]))
            if u[q] > 127 { high += 1 }
        }
        XCTAssertGreaterThan(nodata, 0)
        XCTAssertGreaterThan(high, 0)
        XCTAssertLessThanOrEqual(worst, 1 / 508 + 1e-6)
        let band = try XCTUnwrap((try gdalInfo(dir + "/u.tif")["bands"] as? [[String: Any]])?.first)
        XCTAssertEqual((band["scale"] as? NSNumber)?.doubleValue ?? 0, 1.0 / 254, accuracy: 1e-9)
        XCTAssertEqual((band["offset"] as? NSNumber)?.doubleValue ?? 1, 0)
        XCTAssertEqual((band["noDataValue"] as? NSNumber)?.doubleValue, 255)
    }

    /// The weights file records `mask_any_date` (true here: the default); strict prediction
    /// leaves a pixel missing at one date NODATA, `maskAnyDate = false` classifies it, and a
    /// pixel missing at every date stays NODATA either way. A kept pixel's probabilities equal
    /// the model run on its normalised series with its missing dates 0 (as training fed it).
    func testMaskAnyDateOverride() throws {
        let (data, weights) = try PredictPixelTests.run.get(), dir = try scratch()
        let model = try PredictionModel(path: weights)
        XCTAssertTrue(model.maskAnyDate)
        let file = try HDF5File(weights, mode: .readOnly)
        let text = try XCTUnwrap(try file.stringAttribute("rstrain_data"))
        try file.close()
        XCTAssertTrue(text.contains("\"mask_any_date\":true"), text)
        let input = try PredictInput(path: data + "/tile_00")
        let strict = try ScenePredictor(model: model, window: 16, batch: 2)
        _ = try strict.predict(repository: input.repository, tile: "tile_00", output: dir + "/s.tif")
        let loose = try ScenePredictor(model: model, window: 16, batch: 2)
        loose.maskAnyDate = false
        _ = try loose.predict(repository: input.repository, tile: "tile_00", output: dir + "/l.tif", probabilities: dir + "/lp.tif")
        let tile = data + "/tile_00"
        let dates = try FileManager.default.contentsOfDirectory(atPath: tile).filter { $0.hasPrefix("20") }.sorted()
        let (rs, rl) = (try Raster(dir + "/s.tif"), try Raster(dir + "/l.tif"))
        let (w, h) = (rs.width, rs.height)
        var missing = [Int](repeating: 0, count: w * h)  // dates at which the pixel is NODATA
        var gone: [[Bool]] = [], series: [[Float]] = []
        for d in dates {
            let img = try Raster(tile + "/" + d + "/image.tif")
            let v: [Float] = try img.read(x: 0, y: 0, width: w, height: h)
            var bad = [Bool](repeating: false, count: w * h)
            for b in 0..<img.bandCount {
                let nd = try img.noData(band: b + 1).map(Float.init)
                for p in 0..<(w * h) where v[b * w * h + p] == nd || v[b * w * h + p].isNaN { bad[p] = true }
            }
            for p in 0..<(w * h) where bad[p] { missing[p] += 1 }
            gone.append(bad)
            series.append(v)
        }
        let probs: [Float] = try Raster(dir + "/lp.tif").read(x: 0, y: 0, width: w, height: h)
        let net = try ModelZoo.build(model.spec, batch: 1, input: [6, dates.count]), ex = try net.plan()
        try WeightsFile.load(ex.parameters, from: weights)
        let (scale, offset) = model.normalization.coefficients(bands: 6)
        let x = ex.value(net.input), y = ex.value(net.output)
        var direct = 0, worst: Float = 0
        let s: [UInt8] = try rs.read(x: 0, y: 0, width: w, height: h, as: UInt8.self)
        let l: [UInt8] = try rl.read(x: 0, y: 0, width: w, height: h, as: UInt8.self)
        var partial = 0
        for p in 0..<(w * h) {
            if missing[p] == 0 { XCTAssertEqual(s[p], l[p], "pixel \(p) valid at every date"); XCTAssertLessThan(s[p], 8) }
            else if missing[p] < dates.count {
                partial += 1
                XCTAssertEqual(s[p], 255, "pixel \(p) missing at \(missing[p]) dates is classified under the strict mask")
                XCTAssertLessThan(l[p], 8, "pixel \(p) missing at \(missing[p]) of \(dates.count) dates is not classified")
                for b in 0..<6 { for d in 0..<dates.count {
                    x.data[b * dates.count + d] = gone[d][p] ? 0 : Float(Double(series[d][b * w * h + p]) * scale[b] + offset[b])
                } }
                ex.forward(mode: .inference)
                let top = (0..<8).map { y.data[$0] }.max()!
                let e = (0..<8).map { expf(y.data[$0] - top) }, total = e.reduce(0, +)
                for k in 0..<8 { worst = max(worst, abs(e[k] / total - probs[k * w * h + p])) }
                direct += 1
            } else {
                XCTAssertEqual(l[p], 255)
            }
        }
        XCTAssertGreaterThan(partial, 0, "the clouds should leave some pixels missing at some dates")
        XCTAssertEqual(direct, partial)
        XCTAssertLessThan(worst, 1e-4)
    }
}

/// Scene classifiers: a small ResNet ("head": "scene") trained by the real trainer on a
/// synthetic So2Sat file (Sentinel-2, 10 bands, 32×32), then run on tile windows and on the
/// file's chips.
final class PredictSceneTests: XCTestCase {
    static let run: Result<(h5: String, weights: String), Error> = Result {
        let dir = try Scratch.shared("predict-scene")
        let s = try runProcess(try rstrainBinary(), ["synth", "--preset", "so2sat", "--out", dir + "/data", "--shards", "1",
                                                     "--tiles-per-shard", "24", "--seed", "6"], timeout: 120)
        guard s.status == 0 else { throw TestSetupError("synth failed: \(s.stderr)") }
        let cfg: [String: Any] = [
            "run_dir": dir + "/run", "seed": 1, "reduction": "exact",
            "data": ["kind": "so2sat", "shards": [dir + "/data/shard_000.h5"], "modality": "sen2",
                     "normalization": ["type": "statistics"]] as [String: Any],
            "models": [["name": "scene", "model": ["arch": "resnet", "stages": [1], "widths": [8], "stem": "small",
                                                  "head": "scene", "bands": 10, "classes": 17]]],
            "optimizer": ["type": "adam", "lr": 0.003],
            "micro_batch": 4, "micro_batches": 1, "epochs": 1, "progress_seconds": 1000,
        ]
        let path = dir + "/scene.json"
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: path))
        let r = try TrainingRun.mpirun(1, [path])
        guard r.status == 0 else { throw TestSetupError("training failed: \(r.stderr)") }
        return (dir + "/data/shard_000.h5", FinalWeights.path(model: "scene", runDir: dir + "/run"))
    }


    /// Softmax of the model run on one normalised 10×32×32 sample at `x`.
    func direct(_ weights: String, _ model: PredictionModel, _ x: [Float]) throws -> [Float] {
        let net = try ModelZoo.build(model.spec, batch: 1, input: [10, 32, 32]), ex = try net.plan()
        try WeightsFile.load(ex.parameters, from: weights)
        ex.value(net.input).data.update(from: x, count: x.count)
        ex.forward(mode: .inference)
        let y = ex.value(net.output).data, top = (0..<17).map { y[$0] }.max()!
        let e = (0..<17).map { expf(y[$0] - top) }, total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    func csv(_ path: String) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Tiles: 32 px windows at stride 24 over a 128 px tile → 5×5 CSV rows and a 5×5 raster
    /// whose geotransform is the tile's origin with 24× its pixel size; each window's label and
    /// probabilities equal the model run on that window cut from one 128 px read.
    func testTileWindows() throws {
        let (_, weights) = try Self.run.get(), dir = try scratch()
        let model = try PredictionModel(path: weights)
        XCTAssertTrue(model.isScene)
        XCTAssertEqual(model.window, 32)
        XCTAssertThrowsError(try ScenePredictor(model: model))
        let r = try runProcess(try rstrainBinary(), ["predict", "--checkpoint", weights, "--input", PredictTests.tile, "--output", dir + "/w.csv",
                                                     "--stride", "24", "--raster", dir + "/w.tif"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try csv(dir + "/w.csv")
        XCTAssertEqual(rows.first?.prefix(7), ["tile", "x", "y", "easting", "northing", "class", "name"])
        XCTAssertEqual(rows.count, 1 + 25)
        let coarse = try Raster(dir + "/w.tif"), tile = try Raster(PredictTests.tile + "/B02.tif")
        XCTAssertEqual([coarse.width, coarse.height], [5, 5])
        let gt = try XCTUnwrap(coarse.geoTransform), tgt = try XCTUnwrap(tile.geoTransform)
        XCTAssertEqual(gt[0], tgt[0], accuracy: 1e-9)
        XCTAssertEqual(gt[3], tgt[3], accuracy: 1e-9)
        XCTAssertEqual(gt[1], tgt[1] * 24, accuracy: 1e-9)
        XCTAssertEqual(gt[5], tgt[5] * 24, accuracy: 1e-9)
        let labels: [UInt8] = try coarse.read(x: 0, y: 0, width: 5, height: 5, as: UInt8.self)

        // The whole tile read and normalised as the labeller reads windows.
        let input = try PredictInput(path: PredictTests.tile)
        let options = TileOptions(bands: nil, resolution: model.resolution, windowSize: 128, stride: 128, labels: .none,
                                  maxNodataFraction: 1, resampling: model.resampling)
        let grid = try WindowGrid(input.repository, options: options)
        let reader = WindowReader(grid: grid)
        defer { reader.close() }
        let sample = reader.makeSample()
        _ = try reader.read(WindowRef(tile: 0, x: 0, y: 0, size: 128), into: sample)
        let (scale, offset) = model.normalization.coefficients(bands: 10)
        var checked = 0, worst: Float = 0
        for row in rows.dropFirst() {
            let (x, y) = (Int(row[1])!, Int(row[2])!)
            let e = Double(row[3])!, expectE = tgt[0] + (Double(x) + 16) * tgt[1]
            XCTAssertEqual(e, expectE, accuracy: 1e-3)
            let cell = (y / 24) * 5 + x / 24
            var valid = 0, v = [Float](repeating: 0, count: 10 * 32 * 32)
            for c in 0..<10 {
                for yy in 0..<32 {
                    for xx in 0..<32 {
                        let q = (y + yy) * 128 + x + xx
                        guard sample.mask.data[q] != 0 else { continue }
                        if c == 0 { valid += 1 }
                        v[(c * 32 + yy) * 32 + xx] = Float(Double(sample.image.data[c * 128 * 128 + q]) * scale[c] + offset[c])
                    }
                }
            }
            if Double(valid) < 0.5 * 1024 {
                XCTAssertEqual(row[5], "", "window \(x),\(y) with too much NODATA is labelled")
                XCTAssertEqual(labels[cell], 255)
                continue
            }
            let p = try direct(weights, model, v)
            let best = p.indices.max { p[$0] < p[$1] }!
            XCTAssertEqual(Int(row[5]), best, "window \(x),\(y)")
            XCTAssertEqual(Int(labels[cell]), best, "raster cell of window \(x),\(y)")
            for k in 0..<17 { worst = max(worst, abs(Float(row[7 + k])! - p[k])) }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 10)
        XCTAssertLessThan(worst, 1e-4)
    }

    /// So2Sat file: one CSV row per sample, each label and probability the model's on that
    /// sample normalised with the trained statistics.
    func testSo2SatSamples() throws {
        let (h5, weights) = try Self.run.get(), dir = try scratch()
        let r = try runProcess(try rstrainBinary(), ["predict", "--checkpoint", weights, "--input", h5, "--output", dir + "/s.csv",
                                                     "--batch", "5"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try csv(dir + "/s.csv")
        let model = try PredictionModel(path: weights)
        let ds = try So2SatDataset(path: h5, modality: .sen2)
        XCTAssertEqual(rows.count, 1 + ds.count)
        let batch = SampleBatch(shapes: ds.shapes, capacity: 1)
        let (scale, offset) = model.normalization.coefficients(bands: 10)
        var worst: Float = 0
        for (i, row) in rows.dropFirst().enumerated() {
            XCTAssertEqual(row[0], String(i))
            try ds.read([i], into: batch)
            var v = [Float](repeating: 0, count: 10 * 1024)
            for c in 0..<10 { for q in 0..<1024 where batch.mask.data[q] != 0 {
                v[c * 1024 + q] = Float(Double(batch.image.data[c * 1024 + q]) * scale[c] + offset[c])
            } }
            let p = try direct(weights, model, v)
            XCTAssertEqual(Int(row[1]), p.indices.max { p[$0] < p[$1] }!, "sample \(i)")
            for k in 0..<17 { worst = max(worst, abs(Float(row[3 + k])! - p[k])) }
        }
        XCTAssertLessThan(worst, 1e-4)
    }
}

/// gdalinfo -json of `path`.
private func gdalInfo(_ path: String) throws -> [String: Any] {
    let r = try runProcess("gdalinfo", ["-json", path])
    guard r.status == 0, let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
        throw TestSetupError("gdalinfo \(path) failed: \(r.stderr)")
    }
    return o
}
