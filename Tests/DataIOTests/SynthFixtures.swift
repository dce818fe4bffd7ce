@testable import DataIO
import Foundation
import TestSupport
import XCTest

/// Small synthetic sets, written once per test process and shared by the Synth* tests.
enum SynthFixtures {
    /// The directory they are written to (removed when the test bundle has run).
    private static let root = Result { try Scratch.shared("synth") }

    /// 3 shards × 2 tiles × 2 dates of 96² px at 10 m.
    static let sentinel2 = Result { try make(SynthOptions(preset: .sentinel2, outDir: root.get() + "/s2", shards: 3, tilesPerShard: 2, size: 96, dates: 2, seed: 11)) }
    /// 2 shards × 1 tile × 1 date of 96² px at 30 m.
    static let landsat = Result { try make(SynthOptions(preset: .landsat, outDir: root.get() + "/ls", shards: 2, tilesPerShard: 1, size: 96, seed: 11)) }
    /// 2 shards × 300 patches.
    static let so2sat = Result { try make(SynthOptions(preset: .so2sat, outDir: root.get() + "/so", shards: 2, tilesPerShard: 300, seed: 11)) }

    private static func make(_ o: SynthOptions) throws -> (options: SynthOptions, report: SynthReport) {
        try? FileManager.default.removeItem(atPath: o.outDir)
        return (o, try Synth.generate(o))
    }

    /// `gdalinfo -json` of a raster, or a skip when gdalinfo is missing.
    static func gdalinfo(_ path: String) throws -> [String: Any] {
        guard onPath("gdalinfo") else { throw XCTSkip("gdalinfo is not on PATH (gdal-bin not installed)") }
        let r = try runProcess("gdalinfo", ["-json", path])
        guard r.status == 0 else { throw TestSetupError("gdalinfo \(path) failed: \(r.stderr)") }
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    /// Pixels of band 1 of a raster, as Float.
    static func pixels(_ path: String, band: Int = 1) throws -> (values: [Float], width: Int, height: Int) {
        let r = try Raster(path)
        return (try r.read(x: 0, y: 0, width: r.width, height: r.height, bands: [band]), r.width, r.height)
    }

    /// Fraction of 4-neighbour pixel pairs that hold the same value.
    static func equalNeighbours(_ v: [Float], width w: Int, height h: Int) -> Double {
        var same = 0, pairs = 0
        for y in 0..<h {
            for x in 0..<w {
                if x + 1 < w { pairs += 1; if v[y * w + x] == v[y * w + x + 1] { same += 1 } }
                if y + 1 < h { pairs += 1; if v[y * w + x] == v[(y + 1) * w + x] { same += 1 } }
            }
        }
        return Double(same) / Double(pairs)
    }

    /// Directories directly inside `dir`, sorted.
    static func subdirectories(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: dir + "/" + $0, isDirectory: &isDir) && isDir.boolValue
        }.sorted()
    }
}
