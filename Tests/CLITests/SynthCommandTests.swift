import Foundation
import TestSupport
import XCTest

/// `rstrain synth` as a user runs it.
final class SynthCommandTests: XCTestCase {
    var dir: String!

    /// Not made: synth makes it (a refused command must leave it absent).
    override func setUpWithError() throws { dir = try scratch() + "/out" }

    func rstrain(_ args: [String]) throws -> ProcessResult { try runProcess(try rstrainBinary(), args) }

    func testDemoSizedSetInSeconds() throws {
        let start = Date()
        let r = try rstrain(["synth", "--preset", "sentinel2", "--out", dir, "--shards", "2", "--tiles-per-shard", "2", "--size", "512"])
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("wrote 2 shards (46 files)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("shard_000: "), r.stdout)
        XCTAssertLessThan(seconds, 30, "a demo-sized set takes seconds")
        for s in ["shard_000", "shard_001"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir!)/\(s)/shard.json"))
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir!)/\(s)/tile_01/B12.tif"))
        }
    }

    func testEveryPreset() throws {
        let ls = try rstrain(["synth", "--preset", "landsat", "--out", dir + "/ls", "--shards", "1", "--tiles-per-shard", "1",
                              "--size", "64", "--dates", "3", "--seed", "9"])
        XCTAssertEqual(ls.status, 0, ls.stderr)
        let dates = try FileManager.default.contentsOfDirectory(atPath: dir + "/ls/shard_000/tile_00").filter { $0 != "label.tif" }
        XCTAssertEqual(dates.count, 3)
        let so = try rstrain(["synth", "--preset", "so2sat", "--out", dir + "/so", "--shards", "2", "--tiles-per-shard", "20"])
        XCTAssertEqual(so.status, 0, so.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/so/shard_001.h5"))
        XCTAssertTrue(so.stdout.contains("20 patches"), so.stdout)
    }

    func testExistingShardsAreKeptUnlessOverwrite() throws {
        let args = ["synth", "--preset", "so2sat", "--out", dir!, "--shards", "1", "--tiles-per-shard", "4"]
        XCTAssertEqual(try rstrain(args).status, 0)
        let again = try rstrain(args)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("already exists") && again.stderr.contains("--overwrite"), again.stderr)
        XCTAssertEqual(try rstrain(args + ["--overwrite"]).status, 0)
    }

    func testBadArgumentsAreRefusedNamingTheOption() throws {
        let cases: [([String], String)] = [
            (["--preset", "sentinel3", "--out", dir, "--shards", "1"], "preset"),
            (["--preset", "sentinel2", "--out", dir, "--shards", "0"], "--shards"),
            (["--preset", "sentinel2", "--out", dir, "--shards", "1", "--size", "101"], "even"),
            (["--preset", "landsat", "--out", dir, "--shards", "1", "--size", "8"], "--size"),
            (["--preset", "landsat", "--out", dir, "--shards", "1", "--dates", "0"], "--dates"),
            (["--preset", "so2sat", "--out", dir, "--shards", "1", "--size", "64"], "32"),
            (["--preset", "so2sat", "--out", dir, "--shards", "1", "--cloud-nodata"], "--cloud-nodata"),
            (["--preset", "sentinel2", "--shards", "1"], "--out"),
        ]
        for (args, word) in cases {
            let r = try rstrain(["synth"] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(word), "\(args): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "nothing written for refused arguments")
    }
}
