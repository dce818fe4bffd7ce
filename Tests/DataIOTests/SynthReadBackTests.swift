import DataIO
import Engine
import Foundation
import TestSupport
import XCTest

/// What `rstrain synth` writes, read back through the tile-repository reader the trainer uses.
final class SynthReadBackTests: XCTestCase {
    /// Sentinel-2: 10 m and 20 m band files come back as one 10-band 10 m window; labels are
    /// proportions summing to 1 on valid pixels; the swath-edge NODATA is masked.
    func testSentinel2ShardReadsAsTenBandWindows() throws {
        let out = try scratch()
        _ = try Synth.generate(SynthOptions(preset: .sentinel2, outDir: out, shards: 1, tilesPerShard: 1, size: 256, seed: 3))
        let shard = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: out).sorted().first)
        let repo = try TileRepository(path: out + "/" + shard)
        XCTAssertEqual(repo.tiles.count, 1)
        let grid = try WindowGrid(repo, options: TileOptions(windowSize: 128, maxNodataFraction: 1))
        XCTAssertEqual(grid.layout.imageShape, Shape(10, 128, 128))
        XCTAssertEqual(grid.layout.classes, 8)
        let reader = WindowReader(grid: grid)
        defer { reader.close() }
        let sample = reader.makeSample()
        var valid = 0, masked = 0
        for w in grid.windows {
            _ = try reader.read(w, into: sample)
            let p = try XCTUnwrap(sample.proportions)
            let hw = 128 * 128, k = p.shape[0]
            for i in 0..<hw {
                if sample.mask.data[i] > 0 {
                    valid += 1
                    var s: Float = 0
                    for c in 0..<k { s += p.data[c * hw + i] }
                    XCTAssertEqual(s, 1, accuracy: 1e-4)
                } else { masked += 1 }
            }
        }
        XCTAssertGreaterThan(valid, 0)
        XCTAssertGreaterThan(masked, 0, "synth puts NODATA (a swath edge) in every image")
    }
}
