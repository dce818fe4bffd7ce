import ArgumentParser
import DataIO
import Foundation

/// `rstrain bench data` options (an option group of `bench`).
struct DataBenchOptions: ParsableArguments {
    @Option(help: "bench data: tiles of the synthesised Sentinel-2 shard.")
    var tiles: Int = 4

    @Option(help: "bench data: tile edge in 10 m pixels (even: the 20 m bands are half of it).")
    var size: Int = 1024

    @Option(help: "bench data: window edge in pixels.")
    var window: Int = 256

    @Option(help: "bench data: loader workers, measured from 1 up to this many.")
    var workers: Int = 3

    func validate() throws {
        guard tiles >= 1 else { throw ValidationError("--tiles must be at least 1") }
        guard size >= 32, size % 2 == 0 else { throw ValidationError("--size must be even and at least 32") }
        guard (1...size).contains(window) else { throw ValidationError("--window must be between 1 and --size") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
    }
}

/// The input pipeline's speed on a Sentinel-2 shard that `rstrain synth` writes into a temporary
/// directory (removed afterwards): windows of 10 bands (4 band files at 10 m, 6 at 20 m
/// resampled bilinear, label proportions), shuffled and augmented as training reads them.
/// - reader: one `WindowReader` on this thread (its files opened by a first read);
/// - loader: the `Loader` with 1, 2, … workers, batches of 4, a fresh dataset per worker count:
///   its first epoch (new readers: files opened, tile state built), then the following epochs
///   (readers handed back and reused).
/// Each case repeats epochs until `seconds` have passed (at least one epoch).
enum DataBench {
    static func run(_ o: DataBenchOptions, seconds: Double, json: Bool) throws {
        let report = BenchReport(json: json)
        let dir = FileManager.default.temporaryDirectory.path + "/rstrain-bench-data-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let synth = try Synth.generate(SynthOptions(preset: .sentinel2, outDir: dir, shards: 1, tilesPerShard: o.tiles,
                                                    size: o.size, seed: 5))
        let repository = try TileRepository(path: synth.shards[0].path)
        let grid = try WindowGrid(repository, options: TileOptions(windowSize: o.window, maxNodataFraction: 1))
        let sample = grid.layout.imageShape.dims.map(String.init).joined(separator: "x")
        let head: [(String, Any)] = [("bench", "data"), ("sample", sample)]
        report.emit(head + [("case", "synth"), ("tiles", o.tiles), ("size", o.size), ("windows", grid.windows.count),
                            ("seconds", synth.seconds)])
        let (reads, readSeconds) = try reader(grid, seconds: seconds)
        report.emit(head + [("case", "reader"), ("windows", reads), ("windows_per_s", Double(reads) / readSeconds)])
        for workers in 1...o.workers {
            let d = try WindowDataset(grid: grid, augment: true)
            let first = try epochs(d, workers: workers, from: 0, seconds: 0)
            let reused = try epochs(d, workers: workers, from: 1, seconds: seconds)
            for (readers, t) in [("new", first), ("reused", reused)] {
                report.emit(head + [("case", "loader"), ("workers", workers), ("readers", readers),
                                    ("epochs", t.epochs), ("windows", t.windows),
                                    ("windows_per_s", Double(t.windows) / t.seconds)])
            }
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    /// Windows read on this thread, shuffled and augmented per pass, and the seconds they took.
    static func reader(_ grid: WindowGrid, seconds: Double) throws -> (windows: Int, seconds: Double) {
        let r = WindowReader(grid: grid)
        defer { r.close() }
        let sample = r.makeSample()
        try r.read(grid.windows[0], into: sample)   // opens the files
        let start = now()
        var reads = 0, pass = 0
        repeat {
            for w in grid.shuffled(seed: 1, epoch: pass) {
                try r.read(w, into: sample, augmentation: .random(seed: 1, epoch: pass, index: reads))
                reads += 1
            }
            pass += 1
        } while now() - start < seconds
        return (reads, now() - start)
    }

    /// Whole loader epochs from `epoch` on, until `seconds` have passed (at least one).
    static func epochs(_ d: WindowDataset, workers: Int, from epoch: Int,
                       seconds: Double) throws -> (epochs: Int, windows: Int, seconds: Double) {
        let start = now()
        var n = 0, e = epoch
        repeat {
            let loader = Loader(d, batchSize: 4, seed: 1, epoch: e, workers: workers, prefetch: 4)
            while let b = try loader.next() { n += b.count; loader.recycle(b) }
            loader.close()
            e += 1
        } while now() - start < seconds
        return (e - epoch, n, now() - start)
    }
}
