import DataIO
import Foundation
import Models
import TestSupport
import XCTest
@testable import Experiment
@testable import Prediction

/// `rstrain predict` on a tiny U-Net trained by the real trainer on synthetic Sentinel-2 tiles
/// (128×128 px at 10 m, NODATA along the swath edge).
final class PredictTests: XCTestCase {
    /// run_dir/final/unet.h5 of one short run (trained once per process).
    static let weights: Result<String, Error> = Result {
        let run = try TrainingRun.data + "/predict-run"
        let unet: [String: Any] = ["name": "unet", "model": ["arch": "unet", "dims": 2, "bands": 10, "classes": 8, "filters": 4,
                                                             "levels": 2, "dropout": 0.1]]
        let cfg = try TrainingRun.config("predict", runDir: run, extra: ["models": [unet]])
        let r = try TrainingRun.mpirun(1, [cfg])
        guard r.status == 0 else { throw TestSetupError("training failed: \(r.stderr)") }
        return FinalWeights.path(model: "unet", runDir: run)
    }

    static var tile: String { get throws { try TrainingRun.data + "/data/shard_000/tile_00" } }

    func model() throws -> PredictionModel { try PredictionModel(path: try Self.weights.get()) }


    /// Overlapping 64 px windows (inner borders of 28 px left out: more than the U-Net's
    /// receptive radius) give the scores of one 128 px window over the whole tile.
    func testOverlappingWindowsMatchOneWindow() throws {
        let m = try model(), dir = try scratch()
        let input = try PredictInput(path: Self.tile)
        XCTAssertFalse(input.isRepository)
        XCTAssertEqual(input.tiles, ["tile_00"])
        let slid = try ScenePredictor(model: m, window: 64, overlap: 56, batch: 3)
        let one = try ScenePredictor(model: m, window: 128, overlap: 0, batch: 1)
        let a = try slid.predict(repository: input.repository, tile: "tile_00", output: dir + "/a.tif", probabilities: dir + "/pa.tif")
        let b = try one.predict(repository: input.repository, tile: "tile_00", output: dir + "/b.tif", probabilities: dir + "/pb.tif")
        XCTAssertEqual(a.windows, 81)  // origins 0, 8, …, 64 on each axis
        XCTAssertEqual(b.windows, 1)
        XCTAssertEqual(a.classified, b.classified)
        XCTAssertGreaterThan(a.classified, 0)

        let (pa, pb) = (try Raster(dir + "/pa.tif"), try Raster(dir + "/pb.tif"))
        XCTAssertEqual(pa.bandCount, 8)
        let (w, h) = (pa.width, pa.height)
        let va: [Float] = try pa.read(x: 0, y: 0, width: w, height: h), vb: [Float] = try pb.read(x: 0, y: 0, width: w, height: h)
        let ca: [UInt8] = try Raster(dir + "/a.tif").read(x: 0, y: 0, width: w, height: h, as: UInt8.self)
        let cb: [UInt8] = try Raster(dir + "/b.tif").read(x: 0, y: 0, width: w, height: h, as: UInt8.self)
        var compared = 0, worst: Float = 0
        for y in 8..<(h - 8) {
            for x in 8..<(w - 8) {
                let p = y * w + x
                XCTAssertEqual(va[p].isNaN, vb[p].isNaN, "mask differs at (\(x), \(y))")
                guard !va[p].isNaN else { continue }
                var sum: Float = 0
                for k in 0..<8 {
                    worst = max(worst, abs(va[k * w * h + p] - vb[k * w * h + p]))
                    sum += va[k * w * h + p]
                }
                XCTAssertEqual(sum, 1, accuracy: 1e-4, "probabilities at (\(x), \(y)) do not sum to 1")
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, (w - 16) * (h - 16) / 2)
        XCTAssertLessThan(worst, 1e-4, "largest probability difference between overlapping windows and one window")
        // Classes follow the scores (equal wherever the top two are not a near tie).
        var same = 0
        for p in 0..<(w * h) where ca[p] == cb[p] { same += 1 }
        XCTAssertGreaterThan(Double(same) / Double(w * h), 0.999)
    }

    /// The CLI's class map: the tile's grid and CRS, colour table, class names, NODATA 255,
    /// overviews; classes in 0..<K; pixels NODATA in the input are 255.
    func testClassMapGeoTIFF() throws {
        let weights = try Self.weights.get(), dir = try scratch(), out = dir + "/classes.tif"
        let r = try runProcess(try rstrainBinary(), ["predict", "--checkpoint", weights, "--input", Self.tile, "--output", out,
                                                     "--window", "32", "--overlap", "8", "--batch", "4"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".tmp"))

        let info = try runProcess("gdalinfo", ["-json", out])
        XCTAssertEqual(info.status, 0, info.stderr)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        let src = try Raster(Self.tile + "/B02.tif")  // the 10 m grid: the tile's target grid
        XCTAssertEqual(o["size"] as? [Int], [src.width, src.height])
        let gt = try XCTUnwrap(o["geoTransform"] as? [Double]), want = try XCTUnwrap(src.geoTransform)
        for i in 0..<6 { XCTAssertEqual(gt[i], want[i], accuracy: 1e-9) }
        let band = try XCTUnwrap((o["bands"] as? [[String: Any]])?.first)
        XCTAssertEqual(band["type"] as? String, "Byte")
        XCTAssertEqual(band["noDataValue"] as? Double, 255)
        XCTAssertNotNil(band["colorTable"], "no colour table")
        XCTAssertFalse((band["overviews"] as? [Any] ?? []).isEmpty, "no overviews")
        let names = try categoryNames(out)
        XCTAssertEqual(names.count, 8)
        let manifest = try ShardManifest.read(TrainingRun.data + "/data/shard_000/shard.json")
        XCTAssertEqual(names, manifest.classes?.compactMap(\.name))

        let cls = try Raster(out)
        XCTAssertEqual(cls.projectionWKT.isEmpty, false)
        XCTAssertEqual(cls.epsg, src.epsg)
        let (w, h) = (cls.width, cls.height)
        let c: [UInt8] = try cls.read(x: 0, y: 0, width: w, height: h, as: UInt8.self)
        let b02: [Float] = try src.read(x: 0, y: 0, width: w, height: h)
        let nd = Float(try XCTUnwrap(try src.noData(band: 1)))
        var masked = 0, classes = Set<UInt8>()
        for p in 0..<(w * h) {
            XCTAssertTrue(c[p] < 8 || c[p] == 255, "class \(c[p]) at pixel \(p)")
            if b02[p] == nd { masked += 1; XCTAssertEqual(c[p], 255, "input NODATA at pixel \(p) is not NODATA in the map") }
            if c[p] != 255 { classes.insert(c[p]) }
        }
        XCTAssertGreaterThan(masked, 0, "the synthetic tile should have NODATA pixels")
        XCTAssertGreaterThan(classes.count, 0)
        XCTAssertLessThan(c.filter { $0 == 255 }.count, w * h)
    }

    /// A whole repository: one class map per tile into the output directory.
    func testRepositoryGivesOneMapPerTile() throws {
        let weights = try Self.weights.get(), dir = try scratch()
        let repo = try TrainingRun.data + "/data/shard_001"
        let r = try runProcess(try rstrainBinary(), ["predict", "--checkpoint", weights, "--input", repo, "--output", dir + "/maps",
                                                     "--probabilities", dir + "/probs"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let tiles = try TileRepository(path: repo).tiles
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/maps").filter { $0.hasSuffix(".tif") }.sorted(),
                       tiles.map { $0.name + ".tif" })
        for t in tiles {
            let m = try Raster(dir + "/maps/\(t.name).tif"), p = try Raster(dir + "/probs/\(t.name).tif")
            XCTAssertEqual([m.width, m.height], [t.grid.width, t.grid.height])
            XCTAssertEqual(p.bandCount, 8)
        }
    }

    /// A tile lacking a band the model was trained on: refused, naming the band and the file;
    /// no output left behind.
    func testMissingBandIsRefused() throws {
        let weights = try Self.weights.get(), dir = try scratch()
        let tile = dir + "/repo/tile_00"
        try FileManager.default.createDirectory(atPath: tile, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: Self.tile) where f != "B11.tif" {
            try FileManager.default.createSymbolicLink(atPath: tile + "/" + f, withDestinationPath: Self.tile + "/" + f)
        }
        let out = dir + "/classes.tif"
        let r = try runProcess(try rstrainBinary(), ["predict", "--checkpoint", weights, "--input", tile, "--output", out], timeout: 120)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("missing band 'B11'"), r.stderr)
        XCTAssertTrue(r.stderr.contains(tile + "/B11.tif"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".tmp"))
    }
}

/// Models that cannot map a tile are refused by name, before any tile is read.
final class PredictRefusalTests: XCTestCase {
    func refusal(_ spec: [String: Any], classes: Int, kind: String = "tiles") throws -> String {
        let dir = try scratch()
        let store = try ModelZoo.build(spec, batch: 1, input: [10, 32, 32]).plan().parameters
        func json(_ v: Any) throws -> String { String(decoding: try JSONSerialization.data(withJSONObject: v), as: UTF8.self) }
        let path = try FinalWeights.write(store, model: "m", runDir: dir, attributes: [
            "rstrain_model": try json(spec),
            "rstrain_data": try json(["kind": kind, "classes": classes, "sample": [10, 32, 32], "window": 32, "labels": "proportions",
                                      "resampling": "bilinear", "resolution": NSNull(), "bands": NSNull()] as [String: Any]),
            "rstrain_normalization": try json(["type": "none"]),
        ])
        do {
            let model = try PredictionModel(path: path)
            XCTAssertEqual(model.window, 32)
            _ = try ScenePredictor(model: model)
            XCTFail("\(spec["arch"]!) was accepted")
            return ""
        } catch let e as DataError {
            return e.description
        }
    }

    /// A scene classifier trained on So2Sat-like data labels whole samples: no map of a tile.
    func testSceneClassifierIsRefused() throws {
        let m = try refusal(["arch": "resnet", "stages": [1], "widths": [8], "stem": "small", "head": "scene", "bands": 10, "classes": 8],
                            classes: 8, kind: "so2sat")
        XCTAssertTrue(m.contains("resnet is a scene classifier trained on so2sat data"), m)
    }

    /// A dense classifier whose class count is not the data's.
    func testClassCountMismatchIsRefused() throws {
        let m = try refusal(["arch": "unet", "dims": 2, "bands": 10, "classes": 5, "filters": 4, "levels": 2], classes: 8)
        XCTAssertTrue(m.contains("predict supports dense, pixel and patch classifiers"), m)
        XCTAssertTrue(m.contains("unet is a model whose output is 5×32×32 per window"), m)
    }
}

/// Band 1's category names as gdalinfo lists them.
private func categoryNames(_ path: String) throws -> [String] {
    let r = try runProcess("gdalinfo", ["-json", path])
    let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    let band = (o?["bands"] as? [[String: Any]])?.first
    return band?["categories"] as? [String] ?? []
}
