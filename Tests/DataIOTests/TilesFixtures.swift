import DataIO
import Foundation
import TestSupport
import XCTest

/// Builds small tile repositories for the Tiles tests: rasters written by rstrain
/// (`GeoTIFF.write`) and by GDAL's own tools.
final class TileFixture {
    let root: String

    init(_ tag: String) throws {
        root = try Scratch.make("tiles-\(tag)")
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Creates `root/rel` (and parents) and returns its path.
    @discardableResult
    func dir(_ rel: String) throws -> String {
        let p = root + "/" + rel
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    /// Writes `root/rel`, a `bands`-band raster of `width`×`height` pixels of `pixel` metres
    /// from (x0, y0) (north-up), values from `value(band, row, col)`.
    @discardableResult
    func raster(_ rel: String, width: Int, height: Int, bands: Int = 1, pixel: Double = 10,
                x0: Double = 500_000, y0: Double = 4_600_000, crs: String? = "EPSG:32633",
                noData: Double? = nil, names: [String] = [], tile: Int = 32,
                value: (Int, Int, Int) -> Float) throws -> String {
        let path = root + "/" + rel
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var data = [Float](repeating: 0, count: bands * width * height)
        for b in 0..<bands { for y in 0..<height { for x in 0..<width { data[(b * height + y) * width + x] = value(b, y, x) } } }
        try GeoTIFF.write(path, width: width, height: height, bands: bands, data: data,
                          geoTransform: [x0, pixel, 0, y0, 0, -pixel], projection: crs, noData: noData,
                          bandDescriptions: names, tileSize: tile)
        return path
    }

    /// Writes `root/shard.json`.
    func manifest(_ json: String) throws {
        try json.write(toFile: root + "/shard.json", atomically: true, encoding: .utf8)
    }

    /// Runs a GDAL tool; fails the test (throws) when it exits non-zero.
    static func gdal(_ tool: String, _ args: [String]) throws {
        guard onPath(tool) else { throw XCTSkip("\(tool) is not on PATH (gdal-bin not installed)") }
        let r = try runProcess(tool, ["-q"] + args)
        guard r.status == 0 else { throw TestSetupError("\(tool) \(args.joined(separator: " ")) failed: \(r.stderr)") }
    }

    /// Everything in a raster, C×H×W as Float.
    static func readAll(_ path: String) throws -> (w: Int, h: Int, c: Int, values: [Float]) {
        let r = try Raster(path)
        return (r.width, r.height, r.bandCount, try r.read(x: 0, y: 0, width: r.width, height: r.height))
    }

    /// The real Landsat 7 scene that Debian's r-cran-stars ships (`RealData.landsatDir`).
    static func landsatDir() -> (dir: String?, reason: String) { RealData.landsatDir() }
}

extension TileOptions {
    /// Options for small test windows without labels.
    static func plain(window: Int, stride: Int? = nil) -> TileOptions {
        TileOptions(windowSize: window, stride: stride, labels: .none, maxNodataFraction: 1)
    }
}
