import ArgumentParser
import DataIO
import Foundation

extension SynthPreset: ExpressibleByArgument {}

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write realistic synthetic shards: Sentinel-2 or Landsat tile repositories, or So2Sat LCZ42 HDF5 files.",
        discussion: """
        sentinel2: per tile, B02 B03 B04 B08 at 10 m and B05 B06 B07 B8A B11 B12 at 20 m (one GeoTIFF \
        each, UInt16 reflectance × 10000, NODATA 0) and a 10 m label.tif, in the region's UTM zone.
        landsat: per tile, a six-band 30 m image.tif (UInt16, Collection 2 scale and offset) and a \
        CORINE-like 100 m label.tif in ETRS89-LAEA (EPSG:3035).
        so2sat: per shard, SHARD.h5 with sen1 N×32×32×8, sen2 N×32×32×10, label N×17 (one-hot).
        Classes come as fields, forests, towns and water; spectra from earthlib's measured library; \
        vegetation follows the season over --dates; clouds are bright unless --cloud-nodata. \
        The same seed writes the same pixels. See docs/synth.md.
        """
    )

    @Option(help: "What to write: \(SynthPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: SynthPreset

    @Option(help: "Output directory (created if missing); shards are DIR/shard_000… (DIR/shard_000.h5 for so2sat).")
    var out: String

    @Option(help: "Number of shards (regions, or cities for so2sat).")
    var shards: Int

    @Option(help: "Tiles per shard (default 4), or patches per so2sat file (default 256).")
    var tilesPerShard: Int?

    @Option(help: "Tile edge in pixels of the finest grid: 10 m for sentinel2, 30 m for landsat (default 512; so2sat: 32).")
    var size: Int?

    @Option(help: "Acquisition dates per tile (default 1); several go in YYYY-MM-DD folders.")
    var dates: Int = 1

    @Option(help: "Random seed: the same seed writes the same pixels.")
    var seed: UInt64 = 0

    @Flag(help: "Flag opaque cloud as NODATA (default: clouds are left bright, as before cloud masking).")
    var cloudNodata = false

    @Flag(help: "Replace shards of the same name already in the output directory.")
    var overwrite = false

    var options: SynthOptions {
        SynthOptions(preset: preset, outDir: out, shards: shards, tilesPerShard: tilesPerShard, size: size,
                     dates: dates, seed: seed, cloudsAsNoData: cloudNodata, overwrite: overwrite)
    }

    func validate() throws {
        do { try options.validate() } catch let e as SynthOptionError { throw ValidationError(e.description) }
    }

    func run() throws {
        let report = try Synth.generate(options) { print($0); fflush(stdout) }
        let files = report.shards.reduce(0) { $0 + $1.files }
        print(String(format: "wrote %d shard%@ (%d files) to %@ in %.2f s", report.shards.count,
                     report.shards.count == 1 ? "" : "s", files, out, report.seconds))
    }
}
