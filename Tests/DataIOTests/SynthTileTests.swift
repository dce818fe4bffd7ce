@testable import DataIO
import Foundation
import TestSupport
import XCTest

/// The sentinel2 and landsat presets: the tile repository layout of docs/data.md, what
/// gdalinfo sees, NODATA, resolutions and CRSs, smooth classes, shards that differ,
/// determinism.
final class SynthTileTests: XCTestCase {
    func testSentinel2Layout() throws {
        let (o, report) = try SynthFixtures.sentinel2.get()
        XCTAssertEqual(try SynthFixtures.subdirectories(o.outDir), ["shard_000", "shard_001", "shard_002"])
        XCTAssertEqual(report.shards.count, 3)
        for s in 0..<o.shards {
            let dir = o.shardPath(s)
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/shard.json"))) as? [String: Any])
            XCTAssertEqual(json["sensor"] as? String, "sentinel2")
            XCTAssertEqual(json["label_nodata"] as? Int, 0)
            let bands = try XCTUnwrap(json["bands"] as? [[String: Any]])
            XCTAssertEqual(bands.map { $0["name"] as? String }, ["B02", "B03", "B04", "B08", "B05", "B06", "B07", "B8A", "B11", "B12"])
            XCTAssertEqual(bands.map { $0["resolution"] as? Int }, [10, 10, 10, 10, 20, 20, 20, 20, 20, 20])
            let classes = try XCTUnwrap(json["classes"] as? [[String: Any]])
            XCTAssertEqual(classes.map { $0["value"] as? Int }, Array(1...ClassSpectra.classCount))
            XCTAssertEqual(classes.first?["name"] as? String, "water")

            let tiles = try SynthFixtures.subdirectories(dir)
            XCTAssertEqual(tiles, ["tile_00", "tile_01"])
            for t in tiles {
                let tile = dir + "/" + t
                XCTAssertTrue(FileManager.default.fileExists(atPath: tile + "/label.tif"))
                let dates = try SynthFixtures.subdirectories(tile)
                XCTAssertEqual(dates.count, 2)
                for d in dates {
                    XCTAssertNotNil(d.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression), d)
                    let files = try FileManager.default.contentsOfDirectory(atPath: tile + "/" + d).sorted()
                    XCTAssertEqual(files, ["B02.tif", "B03.tif", "B04.tif", "B05.tif", "B06.tif", "B07.tif", "B08.tif", "B11.tif", "B12.tif", "B8A.tif"])
                }
                // The same dates for every tile of a shard (one orbit over the region).
                XCTAssertEqual(dates, report.shards[s].dates)
            }
        }
    }

    func testSentinel2AsGdalinfoSeesIt() throws {
        let (o, _) = try SynthFixtures.sentinel2.get()
        let tile = o.shardPath(1) + "/tile_01"
        let date = try XCTUnwrap(try SynthFixtures.subdirectories(tile).first)
        let b02 = try SynthFixtures.gdalinfo(tile + "/" + date + "/B02.tif")
        let b11 = try SynthFixtures.gdalinfo(tile + "/" + date + "/B11.tif")
        let label = try SynthFixtures.gdalinfo(tile + "/label.tif")
        for (j, size, res) in [(b02, 96, 10.0), (b11, 48, 20.0), (label, 96, 10.0)] {
            let epsg = try XCTUnwrap((j["stac"] as? [String: Any])?["proj:epsg"] as? Int)
            XCTAssertTrue((32629...32635).contains(epsg), "a UTM zone north, got \(epsg)")
            XCTAssertEqual(j["size"] as? [Int], [size, size])
            let gt = try XCTUnwrap(j["geoTransform"] as? [Double])
            XCTAssertEqual([gt[1], gt[2], gt[4], gt[5]], [res, 0, 0, -res])
            XCTAssertEqual((j["metadata"] as? [String: Any]).flatMap { $0["IMAGE_STRUCTURE"] as? [String: String] }?["COMPRESSION"], "DEFLATE")
            let band = try XCTUnwrap((j["bands"] as? [[String: Any]])?.first)
            XCTAssertEqual(band["block"] as? [Int], [size, size])   // tiled: one block (96 → 96, 48 → 48)
            XCTAssertEqual(band["noDataValue"] as? Double, 0)
        }
        // Same footprint: same origin, size × resolution equal.
        XCTAssertEqual(Array((b02["geoTransform"] as! [Double])[0...3]).enumerated().filter { $0.offset != 1 }.map(\.element),
                       Array((b11["geoTransform"] as! [Double])[0...3]).enumerated().filter { $0.offset != 1 }.map(\.element))
        XCTAssertEqual((b02["cornerCoordinates"] as? [String: [Double]])?["lowerRight"], (b11["cornerCoordinates"] as? [String: [Double]])?["lowerRight"])
        let bands = try XCTUnwrap(b02["bands"] as? [[String: Any]])
        XCTAssertEqual(bands[0]["type"] as? String, "UInt16")
        XCTAssertEqual(bands[0]["description"] as? String, "B02")
        XCTAssertEqual(bands[0]["scale"] as? Double, 1e-4)
        XCTAssertEqual(((label["bands"] as? [[String: Any]])?.first)?["type"] as? String, "Byte")
        XCTAssertEqual(((b02["metadata"] as? [String: Any])?[""] as? [String: String])?["ACQUISITION_DATE"], date)
    }

    /// Larger tiles get 256² blocks (several per file), as the trainer's windows expect.
    func testBlocksOfLargeTiles() throws {
        let dir = try scratch()
        try Synth.generate(SynthOptions(preset: .sentinel2, outDir: dir, shards: 1, tilesPerShard: 1, size: 512, seed: 5))
        let r = try Raster(dir + "/shard_000/tile_00/B08.tif")
        XCTAssertEqual([r.width, r.height], [512, 512])
        XCTAssertEqual(try r.blockSize().width, 256)
        XCTAssertEqual(try r.blockSize().height, 256)
        let r20 = try Raster(dir + "/shard_000/tile_00/B8A.tif")
        XCTAssertEqual([r20.width, r20.height], [256, 256])
    }

    func testNoDataIsSetAndPresentInEveryImage() throws {
        let (o, _) = try SynthFixtures.sentinel2.get()
        for s in 0..<o.shards {
            for t in try SynthFixtures.subdirectories(o.shardPath(s)) {
                let tile = o.shardPath(s) + "/" + t
                for d in try SynthFixtures.subdirectories(tile) {
                    for band in ["B02", "B12"] {
                        let path = "\(tile)/\(d)/\(band).tif"
                        XCTAssertEqual(try Raster(path).noData(band: 1), 0)
                        let (v, _, _) = try SynthFixtures.pixels(path)
                        let missing = v.filter { $0 == 0 }.count
                        XCTAssertGreaterThan(missing, 0, "\(path) has no NODATA pixels")
                        XCTAssertLessThan(missing, v.count / 4, "\(path) is mostly NODATA")
                    }
                }
            }
        }
        let (l, _) = try SynthFixtures.landsat.get()
        let path = l.shardPath(0) + "/tile_00/image.tif"
        let r = try Raster(path)
        for b in 1...6 {
            XCTAssertEqual(try r.noData(band: b), 0)
            XCTAssertGreaterThan(try SynthFixtures.pixels(path, band: b).values.filter { $0 == 0 }.count, 0)
        }
    }

    func testTwentyMetreBandsAreTheTenMetreGroundAveraged() throws {
        // B8A (20 m) and B08 (10 m) both see the NIR plateau: over the same ground their means agree.
        let (o, _) = try SynthFixtures.sentinel2.get()
        let tile = o.shardPath(0) + "/tile_00"
        let date = try XCTUnwrap(try SynthFixtures.subdirectories(tile).first)
        let (b08, w, _) = try SynthFixtures.pixels("\(tile)/\(date)/B08.tif")
        let (b8a, w2, _) = try SynthFixtures.pixels("\(tile)/\(date)/B8A.tif")
        XCTAssertEqual(w2 * 2, w)
        var diffs: [Float] = []
        for y in 0..<w2 {
            for x in 0..<w2 {
                let four = [b08[2 * y * w + 2 * x], b08[2 * y * w + 2 * x + 1], b08[(2 * y + 1) * w + 2 * x], b08[(2 * y + 1) * w + 2 * x + 1]]
                let c = b8a[y * w2 + x]
                if c == 0 { XCTAssertTrue(four.contains(0), "20 m NODATA only where a 10 m pixel is NODATA"); continue }
                XCTAssertFalse(four.contains(0))
                diffs.append(abs(c - four.reduce(0, +) / 4) / c)
            }
        }
        diffs.sort()
        XCTAssertLessThan(diffs[diffs.count / 2], 0.12, "median relative B8A–B08 difference over the same ground")
    }

    func testLandsatImageAndItsLabelInAnotherCRS() throws {
        let (o, _) = try SynthFixtures.landsat.get()
        let tile = o.shardPath(1) + "/tile_00"
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tile).sorted(), ["image.tif", "label.tif"])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: o.shardPath(1) + "/shard.json"))) as? [String: Any]
        XCTAssertEqual((json?["bands"] as? [[String: Any]])?.map { $0["resolution"] as? Int }, [30, 30, 30, 30, 30, 30])

        let image = try SynthFixtures.gdalinfo(tile + "/image.tif")
        let label = try SynthFixtures.gdalinfo(tile + "/label.tif")
        let ie = try XCTUnwrap((image["stac"] as? [String: Any])?["proj:epsg"] as? Int)
        let le = try XCTUnwrap((label["stac"] as? [String: Any])?["proj:epsg"] as? Int)
        XCTAssertTrue((32629...32635).contains(ie))
        XCTAssertEqual(le, 3035)
        XCTAssertEqual((image["geoTransform"] as? [Double])?[1], 30)
        XCTAssertEqual((label["geoTransform"] as? [Double])?[1], 100)
        XCTAssertEqual((label["geoTransform"] as? [Double])?[5], -100)
        let bands = try XCTUnwrap(image["bands"] as? [[String: Any]])
        XCTAssertEqual(bands.map { $0["description"] as? String }, ["B2", "B3", "B4", "B5", "B6", "B7"])
        XCTAssertEqual(bands[0]["offset"] as? Double, -0.2)
        XCTAssertEqual(bands[0]["scale"] as? Double, 2.75e-5)
        XCTAssertEqual((image["metadata"] as? [String: Any]).flatMap { $0["IMAGE_STRUCTURE"] as? [String: String] }?["COMPRESSION"], "DEFLATE")

        // The label covers the image: compare their footprints in longitude/latitude.
        func bbox(_ j: [String: Any]) throws -> (Double, Double, Double, Double) {
            let ring = try XCTUnwrap(((j["wgs84Extent"] as? [String: Any])?["coordinates"] as? [[[Double]]])?.first)
            return (ring.map { $0[0] }.min()!, ring.map { $0[1] }.min()!, ring.map { $0[0] }.max()!, ring.map { $0[1] }.max()!)
        }
        let (ix0, iy0, ix1, iy1) = try bbox(image), (lx0, ly0, lx1, ly1) = try bbox(label)
        XCTAssertLessThanOrEqual(lx0, ix0); XCTAssertLessThanOrEqual(ly0, iy0)
        XCTAssertGreaterThanOrEqual(lx1, ix1); XCTAssertGreaterThanOrEqual(ly1, iy1)
        XCTAssertLessThan(lx1 - lx0, 1.5 * (ix1 - ix0), "the label is snapped to the footprint (outward to 100 m), not much larger")

        // The label agrees with the image: over water (class 1 at 100 m), NIR is dark.
        let r = try Raster(tile + "/label.tif")
        XCTAssertEqual(try r.dataType(band: 1), "Byte")
        XCTAssertEqual(try r.noData(band: 1), 0)
        let values: [UInt8] = try r.read(x: 0, y: 0, width: r.width, height: r.height, as: UInt8.self)
        XCTAssertTrue(values.allSatisfy { $0 <= UInt8(ClassSpectra.classCount) })
    }

    func testClassesFormSmoothRegions() throws {
        let (o, _) = try SynthFixtures.sentinel2.get()
        for s in 0..<o.shards {
            let (v, w, h) = try SynthFixtures.pixels(o.shardPath(s) + "/tile_00/label.tif")
            XCTAssertGreaterThan(SynthFixtures.equalNeighbours(v, width: w, height: h), 0.9, "sentinel2 shard \(s) at 10 m")
        }
        // The landscape under the Landsat image, on its 30 m grid.
        let (l, _) = try SynthFixtures.landsat.get()
        for s in 0..<l.shards {
            let region = Region(l, shard: s)
            let o = region.tileOrigins[0]
            let map = ClassMap(region.landscape, grid: ProjectedGrid(epsg: region.epsg, originX: o.x, originY: o.y, resolution: 30, width: 96, height: 96))
            XCTAssertGreaterThan(SynthFixtures.equalNeighbours(map.cls.map(Float.init), width: 96, height: 96), 0.9, "landsat shard \(s) at 30 m")
        }
        // CORINE-like 100 m cells see several ~220 m fields each: less smooth (0.87–0.95 over
        // eleven seeds), still regions.
        for s in 0..<l.shards {
            let (v, w, h) = try SynthFixtures.pixels(l.shardPath(s) + "/tile_00/label.tif")
            XCTAssertGreaterThan(SynthFixtures.equalNeighbours(v, width: w, height: h), 0.85, "landsat shard \(s) at 100 m")
        }
    }

    func testShardsDiffer() throws {
        let (_, report) = try SynthFixtures.sentinel2.get()
        func share(_ c: [Int]) -> [Double] {
            let t = Double(max(c.dropFirst().reduce(0, +), 1))
            return c.dropFirst().map { Double($0) / t }
        }
        XCTAssertEqual(Set(report.shards.map(\.region)).count, 3, "three shards, three kinds of country")
        for a in 0..<report.shards.count {
            for b in (a + 1)..<report.shards.count {
                let d = zip(share(report.shards[a].classCounts), share(report.shards[b].classCounts)).reduce(0) { $0 + abs($1.0 - $1.1) }
                XCTAssertGreaterThan(d, 0.3, "class mixes of shards \(a) and \(b) (L1 distance of class shares)")
            }
        }
        // Different places, too.
        XCTAssertGreaterThan(Set(report.shards.map { $0.crs + ($0.dates.first ?? "") }).count, 1)
    }

    func testSpectraInTheFilesFollowTheClasses() throws {
        // Over the label's classes, the written reflectances keep the class order the spectra table has:
        // water darkest in NIR, vegetation NIR well above red.
        let (o, _) = try SynthFixtures.sentinel2.get()
        var nir = [Double](repeating: 0, count: 9), red = nir, n = nir
        for s in 0..<o.shards {
            let tile = o.shardPath(s) + "/tile_00"
            let date = try XCTUnwrap(try SynthFixtures.subdirectories(tile).last)
            let (label, _, _) = try SynthFixtures.pixels(tile + "/label.tif")
            let (b08, _, _) = try SynthFixtures.pixels("\(tile)/\(date)/B08.tif")
            let (b04, _, _) = try SynthFixtures.pixels("\(tile)/\(date)/B04.tif")
            let (b02, _, _) = try SynthFixtures.pixels("\(tile)/\(date)/B02.tif")
            for i in label.indices where label[i] > 0 && b02[i] > 0 && b02[i] < 1500 {  // data, clear sky (clouds are bright in blue)
                let c = Int(label[i])
                nir[c] += Double(b08[i]); red[c] += Double(b04[i]); n[c] += 1
            }
        }
        let veg = [ClassSpectra.forest, ClassSpectra.grassland].map(Int.init).filter { n[$0] > 50 }
        XCTAssertFalse(veg.isEmpty)
        for c in veg { XCTAssertGreaterThan(nir[c] / n[c], 2 * red[c] / n[c], "class \(c)") }
        let w = Int(ClassSpectra.water)
        if n[w] > 20 {
            for c in 2...ClassSpectra.classCount where n[c] > 50 { XCTAssertLessThan(nir[w] / n[w], nir[c] / n[c], "water vs class \(c)") }
        }
    }

    func testSameSeedSamePixelsOtherSeedOtherPixels() throws {
        func write(_ name: String, seed: UInt64, preset: SynthPreset) throws -> [Float] {
            let dir = try scratch() + "/" + name
            try Synth.generate(SynthOptions(preset: preset, outDir: dir, shards: 1, tilesPerShard: 2, size: 64, seed: seed))
            let file = dir + "/shard_000/tile_01/" + (preset == .landsat ? "image.tif" : "B05.tif")
            let r = try Raster(file)
            return try r.read(x: 0, y: 0, width: r.width, height: r.height) + (try SynthFixtures.pixels(dir + "/shard_000/tile_01/label.tif").values)
        }
        for preset in [SynthPreset.sentinel2, .landsat] {
            let a = try write("seed-a", seed: 42, preset: preset)
            let b = try write("seed-b", seed: 42, preset: preset)
            let c = try write("seed-c", seed: 43, preset: preset)
            XCTAssertEqual(a, b, "\(preset): same seed, same pixels")
            XCTAssertNotEqual(a, c, "\(preset): other seed, other pixels")
            let differing = zip(a, c).filter { $0 != $1 }.count
            XCTAssertGreaterThan(differing, a.count / 2, "\(preset)")
        }
    }

    func testCloudsAsNoData() throws {
        // With --cloud-nodata, opaque cloud becomes NODATA; without, it stays (bright).
        func missing(_ masked: Bool) throws -> (nodata: Int, bright: Int) {
            let dir = try scratch() + "/clouds-\(masked)"
            try Synth.generate(SynthOptions(preset: .landsat, outDir: dir, shards: 1, tilesPerShard: 1, size: 128, dates: 6, seed: 3, cloudsAsNoData: masked))
            var nodata = 0, bright = 0
            let tile = dir + "/shard_000/tile_00"
            for d in try SynthFixtures.subdirectories(tile) {
                let v = try SynthFixtures.pixels(tile + "/" + d + "/image.tif", band: 1).values   // blue
                nodata += v.filter { $0 == 0 }.count
                bright += v.filter { Double($0) * 2.75e-5 - 0.2 > 0.35 }.count
            }
            return (nodata, bright)
        }
        let plain = try missing(false), masked = try missing(true)
        XCTAssertGreaterThan(plain.bright, 100, "six dates should hold some cloud")
        XCTAssertGreaterThan(masked.nodata, plain.nodata)
        XCTAssertLessThan(masked.bright, plain.bright)
    }

    func testOptionsAreValidated() {
        func problem(_ o: SynthOptions) -> String {
            do { try o.validate(); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(problem(SynthOptions(preset: .sentinel2, outDir: "/tmp/x", shards: 2)), "")
        XCTAssertTrue(problem(SynthOptions(preset: .sentinel2, outDir: "/tmp/x", shards: 0)).contains("--shards"))
        XCTAssertTrue(problem(SynthOptions(preset: .sentinel2, outDir: "/tmp/x", shards: 1, size: 101)).contains("even"))
        XCTAssertTrue(problem(SynthOptions(preset: .landsat, outDir: "/tmp/x", shards: 1, size: 16)).contains("--size"))
        XCTAssertTrue(problem(SynthOptions(preset: .landsat, outDir: "/tmp/x", shards: 1, dates: 0)).contains("--dates"))
        XCTAssertTrue(problem(SynthOptions(preset: .so2sat, outDir: "/tmp/x", shards: 1, size: 64)).contains("32"))
        XCTAssertTrue(problem(SynthOptions(preset: .so2sat, outDir: "/tmp/x", shards: 1, dates: 3)).contains("--dates"))
        XCTAssertTrue(problem(SynthOptions(preset: .sentinel2, outDir: "", shards: 1)).contains("--out"))
    }
}
