import DataIO
import Foundation
import TestSupport
import XCTest

/// `mpirun -n N rstrain predict`: one scene's window rows split over ranks (rank 0 writes),
/// and tile repositories split by tile, each rank reading its own ({rank}-templated) copy.
/// Models are the trained fixtures of PredictTests (U-Net) and PredictPatchTests (ResNet).
final class DistributedPredictTests: XCTestCase {
    func predict(ranks: Int, _ args: [String]) throws -> ProcessResult {
        ranks == 0 ? try runProcess(try rstrainBinary(), ["predict"] + args, timeout: 600)
            : try TrainingRun.mpirun(ranks, ["predict"] + args, timeout: 600)
    }

    /// One scene on 3 ranks writes the files one process writes, byte for byte in pixel values:
    /// classes and float probabilities. Overlap 9 (odd) on a 128 px tile with 32 px windows
    /// gives window rows at 0, 23, 46, 69, 92 and 96 (flush with the edge): every band boundary
    /// has a row that two window rows' kept parts share.
    func testDenseSceneOnThreeRanksEqualsOneProcess() throws {
        let weights = try PredictTests.weights.get(), dir = try scratch()
        let common = try ["--checkpoint", weights, "--input", PredictTests.tile, "--window", "32", "--overlap", "9", "--batch", "2"]
        let one = try predict(ranks: 0, common + ["--output", dir + "/c1.tif", "--probabilities", dir + "/p1.tif"])
        XCTAssertEqual(one.status, 0, one.stderr)
        let three = try predict(ranks: 3, common + ["--output", dir + "/c3.tif", "--probabilities", dir + "/p3.tif"])
        XCTAssertEqual(three.status, 0, three.stderr)
        try assertSame(dir, one: one, three: three)
    }

    /// The same for the patch model (rows = kept pixels; the window row is the unit of a pass).
    func testPatchSceneOnThreeRanksEqualsOneProcess() throws {
        let weights = try PredictPatchTests.weights.get(), dir = try scratch()
        let common = try ["--checkpoint", weights, "--input", PredictPatchTests.tile, "--window", "48", "--overlap", "15", "--batch", "1"]
        let one = try predict(ranks: 0, common + ["--output", dir + "/c1.tif", "--probabilities", dir + "/p1.tif"])
        XCTAssertEqual(one.status, 0, one.stderr)
        let three = try predict(ranks: 3, common + ["--output", dir + "/c3.tif", "--probabilities", dir + "/p3.tif"])
        XCTAssertEqual(three.status, 0, three.stderr)
        try assertSame(dir, one: one, three: three)
    }

    func assertSame(_ dir: String, one: ProcessResult, three: ProcessResult, file: StaticString = #filePath, line: UInt = #line) throws {
        let c1 = try Raster(dir + "/c1.tif"), c3 = try Raster(dir + "/c3.tif")
        XCTAssertEqual([c3.width, c3.height], [c1.width, c1.height], file: file, line: line)
        let a: [UInt8] = try c1.read(x: 0, y: 0, width: c1.width, height: c1.height, as: UInt8.self)
        let b: [UInt8] = try c3.read(x: 0, y: 0, width: c3.width, height: c3.height, as: UInt8.self)
        XCTAssertEqual(a, b, "class maps differ", file: file, line: line)
        XCTAssertGreaterThan(a.filter { $0 < 8 }.count, a.count / 2, file: file, line: line)
        let p1 = try Raster(dir + "/p1.tif"), p3 = try Raster(dir + "/p3.tif")
        XCTAssertEqual(p3.bandCount, 8, file: file, line: line)
        let u: [Float] = try p1.read(x: 0, y: 0, width: p1.width, height: p1.height)
        let v: [Float] = try p3.read(x: 0, y: 0, width: p3.width, height: p3.height)
        XCTAssertEqual(u.count, v.count, file: file, line: line)
        let differing = zip(u, v).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "probability values differ in bits", file: file, line: line)
        // The summary (windows, classified share) is the whole scene's, printed once.
        let l1 = one.stdout.split(separator: "\n"), l3 = three.stdout.split(separator: "\n")
        XCTAssertEqual(l3.count, 1, three.stdout, file: file, line: line)
        XCTAssertEqual(l1.first.map { $0.split(separator: "→")[0] }, l3.first.map { $0.split(separator: "→")[0] }, file: file, line: line)
    }

    /// Each rank has its own repository (`{rank}` in --input and --output): rank 0 tile_a,
    /// rank 1 tile_b, rank 2 none. Each tile is mapped once, by the rank holding it, into its
    /// own output directory, equal to a one-process map of that tile; rank 0 prints both lines
    /// and the total; rank 2 says it has nothing.
    func testTemplatedRepositoriesMapEachTileOnceWhereItIs() throws {
        let weights = try PredictTests.weights.get(), dir = try scratch(), fm = FileManager.default
        let shards = try TrainingRun.data + "/data"
        for (r, (shard, tile)) in [("shard_000", "tile_a"), ("shard_001", "tile_b")].enumerated() {
            try fm.createDirectory(atPath: dir + "/repo_\(r)", withIntermediateDirectories: true)
            try fm.copyItem(atPath: "\(shards)/\(shard)/shard.json", toPath: dir + "/repo_\(r)/shard.json")
            try fm.copyItem(atPath: "\(shards)/\(shard)/tile_00", toPath: dir + "/repo_\(r)/\(tile)")
        }
        let r = try predict(ranks: 3, ["--checkpoint", weights, "--input", dir + "/repo_{rank}", "--output", dir + "/out_{rank}"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(fm.fileExists(atPath: dir + "/out_0/tile_a.tif"))
        XCTAssertTrue(fm.fileExists(atPath: dir + "/out_1/tile_b.tif"))
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: dir + "/out_0").filter { $0.hasSuffix(".tif") }, ["tile_a.tif"])
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: dir + "/out_1").filter { $0.hasSuffix(".tif") }, ["tile_b.tif"])
        XCTAssertFalse(fm.fileExists(atPath: dir + "/out_2"))
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.hasPrefix("tile_a:") && $0.contains("(rank 0 ") }.count, 1, r.stdout)
        XCTAssertEqual(lines.filter { $0.hasPrefix("tile_b:") && $0.contains("(rank 1 ") }.count, 1, r.stdout)
        XCTAssertEqual(lines.filter { $0.hasPrefix("tile_") }.count, 2, r.stdout)
        XCTAssertTrue(lines.contains("2 tiles mapped by 3 ranks"), r.stdout)
        XCTAssertTrue(r.stderr.contains("no tile folder or repository at \(dir)/repo_2"), r.stderr)
        // The map equals one process's map of that tile.
        let single = try predict(ranks: 0, ["--checkpoint", weights, "--input", dir + "/repo_1/tile_b", "--output", dir + "/b.tif"])
        XCTAssertEqual(single.status, 0, single.stderr)
        let m1 = try Raster(dir + "/b.tif"), m2 = try Raster(dir + "/out_1/tile_b.tif")
        let x: [UInt8] = try m1.read(x: 0, y: 0, width: m1.width, height: m1.height, as: UInt8.self)
        let y: [UInt8] = try m2.read(x: 0, y: 0, width: m2.width, height: m2.height, as: UInt8.self)
        XCTAssertEqual(x, y)
    }

    /// Two ranks on one host reading the same repository share its tiles: each mapped once.
    func testRanksSharingARepositorySplitItsTiles() throws {
        let weights = try PredictTests.weights.get(), dir = try scratch(), fm = FileManager.default
        let shards = try TrainingRun.data + "/data"
        try fm.createDirectory(atPath: dir + "/repo", withIntermediateDirectories: true)
        try fm.copyItem(atPath: shards + "/shard_000/shard.json", toPath: dir + "/repo/shard.json")
        for (shard, tile) in [("shard_000", "tile_a"), ("shard_001", "tile_b"), ("shard_000", "tile_c")] {
            try fm.copyItem(atPath: "\(shards)/\(shard)/tile_00", toPath: dir + "/repo/\(tile)")
        }
        let r = try predict(ranks: 2, ["--checkpoint", weights, "--input", dir + "/repo", "--output", dir + "/out"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.hasPrefix("tile_a:") && $0.contains("(rank 0 ") }.count, 1, r.stdout)
        XCTAssertEqual(lines.filter { $0.hasPrefix("tile_b:") && $0.contains("(rank 1 ") }.count, 1, r.stdout)
        XCTAssertEqual(lines.filter { $0.hasPrefix("tile_c:") && $0.contains("(rank 0 ") }.count, 1, r.stdout)
        XCTAssertEqual(lines.filter { $0.hasPrefix("tile_") }.count, 3, r.stdout)
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: dir + "/out").filter { $0.hasSuffix(".tif") }.sorted(),
                       ["tile_a.tif", "tile_b.tif", "tile_c.tif"])
    }

    /// No rank finds the input: one error, naming the path, and no output.
    func testMissingInputOnEveryRankNamesThePath() throws {
        let weights = try PredictTests.weights.get(), dir = try scratch()
        let r = try predict(ranks: 2, ["--checkpoint", weights, "--input", dir + "/nowhere_{rank}", "--output", dir + "/out"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains(dir + "/nowhere_{rank}"), r.stderr)
        XCTAssertTrue(r.stderr.contains(dir + "/nowhere_0"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out"))
    }
}
