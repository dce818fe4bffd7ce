import Foundation
import TestSupport
import XCTest

/// `rstrain inspect CONFIG.json`: the config and every input checked before any training, every
/// problem listed at once; and `rstrain CONFIG.json` refusing the same problems before it trains.
final class InspectCommandTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = try scratch()
        let r = try runProcess(try rstrainBinary(), ["synth", "--preset", "sentinel2", "--out", dir + "/data", "--shards", "2",
                                                     "--tiles-per-shard", "1", "--size", "128", "--seed", "4"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func config(_ shards: [Any], models: [[String: Any]]? = nil, name: String = "c.json") throws -> String {
        let json: [String: Any] = [
            "run_dir": dir + "/run",
            "data": ["shards": shards, "window": 32],
            "models": models ?? [["name": "u", "model": ["arch": "unet", "bands": 10, "classes": 8, "filters": 4, "levels": 2]]],
        ]
        let path = dir + "/" + name
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testSummarisesEveryShard() throws {
        let cfg = try config([dir + "/data/shard_000", dir + "/data/shard_001"])
        let r = try runProcess(try rstrainBinary(), ["inspect", cfg])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        for s in ["shard shard_000", "shard shard_001", "EPSG:326", "bands: B02, B03, B04, B08, B05, B06, B07, B8A, B11, B12",
                  "usable of 16", "image 10×32×32", "NODATA:", "classes: 0 water:", "7 shrubland:", "held out: ",
                  "training windows sharing a pixel with held-out ones: 0", "no problems found"] {
            XCTAssertTrue(r.stdout.contains(s), "missing '\(s)' in:\n\(r.stdout)")
        }
        // The class shares of a shard add up to 100%.
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.contains("classes: 0 water:") })
        let shares = line.split(separator: ",").compactMap { Double($0.split(separator: " ").last!.dropLast()) }
        XCTAssertEqual(shares.count, 8)
        XCTAssertEqual(shares.reduce(0, +), 100, accuracy: 0.5)
    }

    /// Mistakes a new user makes, caught before training: a model whose class count is not the
    /// data's (inspect and the trainer alike), and every model named in the header, forests too.
    func testClassCountMismatchIsRefusedAndForestsAreListed() throws {
        let shards = [dir + "/data/shard_000", dir + "/data/shard_001"]
        let unet: [String: Any] = ["arch": "unet", "bands": 10, "classes": 5, "filters": 4, "levels": 2]
        let cfg = try config(shards, models: [["name": "u5", "model": unet],
                                              ["name": "rf", "model": ["arch": "random_forest", "trees": 2]]], name: "k.json")
        let r = try runProcess(try rstrainBinary(), ["inspect", cfg])
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("2 models (u5, rf (random forest))"), r.stdout)
        XCTAssertTrue(r.stdout.contains("models[0].model.classes") && r.stdout.contains("is 5 but the data has 8 classes"), r.stdout)
        let t = try TrainingRun.mpirun(1, [cfg])
        XCTAssertEqual(t.status, 2, t.stdout + t.stderr)
        XCTAssertTrue(t.stdout.contains("models[0].model.classes"), t.stdout + t.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run/final"), "nothing trained")
    }

    func testListsEveryProblemAtOnce() throws {
        // A missing repository, a truncated band file, and a model that does not fit the data.
        let broken = dir + "/broken"
        try FileManager.default.copyItem(atPath: dir + "/data/shard_001", toPath: broken)
        let band = broken + "/tile_00/B04.tif"
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: band))
        try h.truncate(atOffset: 300)
        try h.close()
        let cfg = try config([dir + "/data/shard_000", dir + "/nowhere", broken],
                             models: [["name": "u", "model": ["arch": "unet", "bands": 6, "classes": 8, "filters": 4, "levels": 2]]])
        let r = try runProcess(try rstrainBinary(), ["inspect", cfg])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("3 problems"), r.stdout)
        XCTAssertTrue(r.stdout.contains(dir + "/nowhere") && r.stdout.contains("does not exist"), r.stdout)
        XCTAssertTrue(r.stdout.contains("B04.tif"), r.stdout)
        XCTAssertTrue(r.stdout.contains("models[0].model") && r.stdout.contains("bands"), r.stdout)
        // Training refuses the same config before it starts, naming the same problems.
        let t = try runProcess(try rstrainBinary(), [cfg])
        XCTAssertNotEqual(t.status, 0)
        XCTAssertTrue(t.stdout.contains(dir + "/nowhere") && t.stdout.contains("B04.tif"), t.stdout + t.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run/checkpoints"), "nothing written before the checks pass")
    }

    func testConfigErrorsNameTheFileAndKey() throws {
        let missing = try runProcess(try rstrainBinary(), ["inspect", dir + "/no-such.json"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stdout.contains("no-such.json") && missing.stdout.contains("does not exist"), missing.stdout)
        let train = try runProcess(try rstrainBinary(), [dir + "/no-such.json"])
        XCTAssertNotEqual(train.status, 0)
        XCTAssertTrue(train.stdout.contains("does not exist"), train.stdout + train.stderr)
        let path = dir + "/typo.json"
        try Data(#"{"run_dir": "x", "data": {"shards": ["a"], "windw": 3}, "models": []}"#.utf8).write(to: URL(fileURLWithPath: path))
        let typo = try runProcess(try rstrainBinary(), ["inspect", path])
        XCTAssertTrue(typo.stdout.contains("typo.json") && typo.stdout.contains("data.windw"), typo.stdout)
    }
}
