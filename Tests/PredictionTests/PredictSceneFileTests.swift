import DataIO
import Foundation
import TestSupport
import XCTest
@testable import Experiment

/// `rstrain predict --input SCENE.tif` on the real Landsat 7 ETM+ scene (r-cran-stars'
/// L7_ETMs.tif, 6 bands, 349×352 at 28.5 m): a U-Net trained by the real trainer on that scene as
/// an image.tif tile maps the bare GeoTIFF exactly as it maps the tile folder, on the scene's grid.
final class PredictSceneFileTests: XCTestCase {
    func testGeoTIFFSceneMapsAsItsTileFolder() throws {
        let (stars, reason) = RealData.landsatDir()
        guard let stars else {
            print("PredictSceneFileTests skipped: \(reason)")
            throw XCTSkip(reason)
        }
        let root = try scratch()
        let scene = stars + "/L7_ETMs.tif"
        // The scene as a tile, labelled 0 water (NIR < 30), 1 vegetation (NDVI > 0.2), 2 other.
        try FileManager.default.createDirectory(atPath: root + "/repo/olinda", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: scene, toPath: root + "/repo/olinda/image.tif")
        let r = try Raster(scene)
        let (w, h) = (r.width, r.height)
        let v: [Float] = try r.read(x: 0, y: 0, width: w, height: h)
        let n = w * h
        let labels = (0..<n).map { p -> UInt8 in
            let red = v[2 * n + p], nir = v[3 * n + p]
            return nir < 30 ? 0 : ((nir - red) / max(nir + red, 1) > 0.2 ? 1 : 2)
        }
        try GeoTIFF.write(root + "/repo/olinda/label.tif", width: w, height: h, bands: 1, data: labels,
                          geoTransform: r.geoTransform, projection: r.projectionWKT, noData: 255, tileSize: 64)
        let cfg: [String: Any] = [
            "run_dir": root + "/run", "seed": 3, "mode": "data_parallel", "epochs": 1, "micro_batch": 4,
            "data": ["shards": [root + "/repo"], "window": 64, "stride": 64, "labels": "hard", "classes": 3,
                     "validation_fraction": 0.2],
            "models": [["name": "unet", "model": ["arch": "unet", "dims": 2, "bands": 6, "classes": 3, "filters": 4, "levels": 2]]],
            "progress_live": false,
        ]
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: root + "/run.json"))
        let trained = try TrainingRun.mpirun(1, [root + "/run.json"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let weights = FinalWeights.path(model: "unet", runDir: root + "/run")

        let bin = try rstrainBinary()
        let a = try runProcess(bin, ["predict", "--checkpoint", weights, "--input", scene, "--output", root + "/scene.tif",
                                     "--probabilities", root + "/scene-p.tif"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertTrue(a.stdout.contains("L7_ETMs: 349×352 px"), a.stdout)
        let b = try runProcess(bin, ["predict", "--checkpoint", weights, "--input", root + "/repo/olinda", "--output", root + "/tile.tif",
                                     "--probabilities", root + "/tile-p.tif"])
        XCTAssertEqual(b.status, 0, b.stderr)
        let (ms, mt) = (try Raster(root + "/scene.tif"), try Raster(root + "/tile.tif"))
        XCTAssertEqual([ms.width, ms.height], [w, h])
        XCTAssertEqual(ms.geoTransform, r.geoTransform)
        let cs: [UInt8] = try ms.read(x: 0, y: 0, width: w, height: h, as: UInt8.self)
        XCTAssertEqual(cs, try mt.read(x: 0, y: 0, width: w, height: h, as: UInt8.self))
        XCTAssertTrue(cs.allSatisfy { $0 < 3 || $0 == 255 })
        let ps: [Float] = try Raster(root + "/scene-p.tif").read(x: 0, y: 0, width: w, height: h)
        let pt: [Float] = try Raster(root + "/tile-p.tif").read(x: 0, y: 0, width: w, height: h)
        XCTAssertEqual(ps.map(\.bitPattern), pt.map(\.bitPattern))
        // The temporary tile folder is gone, and a scene without the model's bands is refused by its own name.
        let left = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("rstrain-scene-") }
        XCTAssertTrue(left.isEmpty, "\(left)")
        try GeoTIFF.write(root + "/three.tif", width: 8, height: 8, bands: 3, data: [Float](repeating: 1, count: 192),
                          geoTransform: r.geoTransform, projection: r.projectionWKT, tileSize: 16)
        let bad = try runProcess(bin, ["predict", "--checkpoint", weights, "--input", root + "/three.tif", "--output", root + "/x.tif"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains(root + "/three.tif") && bad.stderr.contains("band4"), bad.stderr)
        XCTAssertFalse(bad.stderr.contains("rstrain-scene-"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/x.tif"))
    }
}
