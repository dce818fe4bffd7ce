import DataIO
import Foundation
import XCTest

/// Windows per second the `Loader` delivers: 256×256 windows of 10 bands (4 band files at 10 m,
/// 6 at 20 m resampled bilinear, label proportions) from a synth Sentinel-2 shard, every window
/// read once (each TIFF block decoded once). Printed; `swift test -c release -Xswiftc
/// -enable-testing --filter LoaderSpeedTests` for the number that matters. unet2d_256 training
/// consumes about 3–4 samples/s on one thread here; the loader should deliver ≥ 5× that.
final class LoaderSpeedTests: XCTestCase {
    #if DEBUG
    static let (tiles, side) = (2, 512)     // 8 windows: debug builds are ~10× slower
    #else
    static let (tiles, side) = (4, 1024)    // 64 windows
    #endif

    func testWindowsPerSecondFromASentinel2Shard() throws {
        let out = NSTemporaryDirectory() + "rstrain-loader-speed-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let report = try Synth.generate(SynthOptions(preset: .sentinel2, outDir: out, shards: 1, tilesPerShard: Self.tiles,
                                                     size: Self.side, seed: 5))
        let repo = try TileRepository(path: report.shards[0].path)
        let grid = try WindowGrid(repo, options: TileOptions(windowSize: 256, maxNodataFraction: 1))
        XCTAssertEqual(grid.layout.imageShape.dims, [10, 256, 256])
        let d = try WindowDataset(grid: grid)
        var rates: [Int: Double] = [:]
        var epoch = 0
        for workers in [1, 2, 3] {
            // Epoch 1 opens the files and builds each reader's tile state; epoch 2 reuses them.
            for pass in 1...2 {
                let t0 = Date()
                let l = Loader(d, batchSize: 4, seed: 1, epoch: epoch, workers: workers, prefetch: 4)
                epoch += 1
                var n = 0
                while let b = try l.next() { n += b.count; l.recycle(b) }
                l.close()
                let rate = Double(n) / Date().timeIntervalSince(t0)
                if pass == 2 { rates[workers] = rate }
                print(String(format: "LoaderSpeed: %d workers, epoch %d (%@), %d windows 10×256×256: %.1f windows/s (%d cores)",
                             workers, pass, pass == 1 ? "new readers" : "readers reused", n, rate,
                             ProcessInfo.processInfo.activeProcessorCount))
            }
        }
        XCTAssertGreaterThan(rates.values.max()!, 0)
        #if !DEBUG
        // unet2d_256 consumes 3–4 samples/s: a generous floor at 5× the upper figure.
        XCTAssertGreaterThanOrEqual(rates.values.max()!, 20, "the loader would starve training")
        #endif
    }
}
