import DataIO
import Foundation
import TestSupport
import XCTest
@testable import Experiment

/// A model trained on Landsat 8 bands chosen by common name (blue … swir2) records those names
/// in its weights file and maps a Sentinel-2 repository, whose B02 … B12 the same names pick, on
/// the 30 m grid the run set (`data.resolution`; unset, each repository's finest band decides).
final class PredictAcrossSensorsTests: XCTestCase {
    func testLandsatModelMapsSentinel2ByCommonBandNames() throws {
        let dir = try scratch(), bin = try rstrainBinary()
        for (preset, size) in [("landsat", "64"), ("sentinel2", "96")] {
            let s = try runProcess(bin, ["synth", "--preset", preset, "--out", dir + "/" + preset, "--shards", "1",
                                         "--tiles-per-shard", "1", "--size", size, "--dates", "1", "--seed", "2"], timeout: 120)
            XCTAssertEqual(s.status, 0, s.stderr)
        }
        let common = ["blue", "green", "red", "nir", "swir1", "swir2"]
        let cfg: [String: Any] = [
            "run_dir": dir + "/run", "seed": 1, "mode": "data_parallel", "epochs": 1, "micro_batch": 4, "progress_live": false,
            "data": ["shards": [dir + "/landsat/shard_000"], "bands": common, "resolution": 30, "window": 32, "labels": "hard",
                     "validation_fraction": 0.25],
            "models": [["name": "unet", "model": ["arch": "unet", "dims": 2, "bands": 6, "classes": 8, "filters": 4, "levels": 2]]],
        ]
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: dir + "/run.json"))
        let trained = try TrainingRun.mpirun(1, [dir + "/run.json"])
        XCTAssertEqual(trained.status, 0, trained.stdout + trained.stderr)
        let weights = FinalWeights.path(model: "unet", runDir: dir + "/run")
        let meta = try WeightsMetadata(path: weights)
        XCTAssertEqual(meta.bands, common)
        XCTAssertEqual(meta.resolution, 30)

        let p = try runProcess(bin, ["predict", "--checkpoint", weights, "--input", dir + "/sentinel2/shard_000", "--output", dir + "/maps"])
        XCTAssertEqual(p.status, 0, p.stdout + p.stderr)
        let map = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir + "/maps").first { $0.hasSuffix(".tif") })
        let r = try Raster(dir + "/maps/" + map)
        // The Sentinel-2 tile (96 px at 10 m) mapped on the model's 30 m grid.
        XCTAssertEqual([r.width, r.height], [32, 32])
        let classes: [UInt8] = try r.read(x: 0, y: 0, width: 32, height: 32, as: UInt8.self)
        XCTAssertTrue(classes.allSatisfy { $0 < 8 || $0 == 255 })
        XCTAssertGreaterThan(classes.filter { $0 < 8 }.count, 512, "most of the tile is mapped")
    }
}
