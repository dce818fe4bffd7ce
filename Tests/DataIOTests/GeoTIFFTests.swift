import DataIO
import Foundation
import TestSupport
import XCTest

final class GeoTIFFTests: ScratchTestCase {
    // Odd sizes, not multiples of the tile: edge tiles are partial.
    let (w, h, c) = (70, 45, 3)
    let gt = [500_000.0, 10, 0, 4_600_000, 0, -10]

    /// Band b, row y, column x: distinct per position, NODATA on a diagonal.
    func value(_ b: Int, _ y: Int, _ x: Int) -> Float {
        x == y ? -9999 : Float(b * 10_000 + y * 100 + x) * 0.25
    }

    func writeSample(_ path: String) throws -> [Float] {
        var data = [Float]()
        for b in 0..<c { for y in 0..<h { for x in 0..<w { data.append(value(b, y, x)) } } }
        try GeoTIFF.write(path, width: w, height: h, bands: c, data: data, geoTransform: gt,
                          projection: "EPSG:32633", noData: -9999, bandDescriptions: ["red", "green", "nir"],
                          tileSize: 32)
        return data
    }

    func testWriteThenReadBack() throws {
        let path = dir + "/sample.tif"
        let data = try writeSample(path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"))
        let r = try Raster(path)
        XCTAssertEqual(r.driver, "GTiff")
        XCTAssertEqual([r.width, r.height, r.bandCount], [w, h, c])
        XCTAssertEqual(r.geoTransform, gt)
        XCTAssertEqual(r.epsg, 32633)
        XCTAssertTrue(r.projectionWKT.contains("UTM zone 33N"), r.projectionWKT)
        for b in 1...c {
            XCTAssertEqual(try r.noData(band: b), -9999)
            XCTAssertEqual(try r.dataType(band: b), "Float32")
            let bs = try r.blockSize(band: b)
            XCTAssertEqual([bs.width, bs.height], [32, 32])
        }
        XCTAssertEqual(try r.description(band: 3), "nir")
        let back: [Float] = try r.read(x: 0, y: 0, width: w, height: h)
        XCTAssertEqual(back.map(\.bitPattern), data.map(\.bitPattern))
    }

    func testGdalinfoAgrees() throws {
        guard onPath("gdalinfo") else { throw XCTSkip("gdalinfo is not on PATH (gdal-bin not installed)") }
        let path = dir + "/sample.tif"
        _ = try writeSample(path)
        let r = try runProcess("gdalinfo", ["-json", "-stats", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let j = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(j["driverShortName"] as? String, "GTiff")
        XCTAssertEqual(j["size"] as? [Int], [w, h])
        XCTAssertEqual(j["geoTransform"] as? [Double], gt)
        XCTAssertEqual((j["stac"] as? [String: Any])?["proj:epsg"] as? Int, 32633)
        let structure = (j["metadata"] as? [String: Any])?["IMAGE_STRUCTURE"] as? [String: String]
        XCTAssertEqual(structure?["COMPRESSION"], "DEFLATE")
        let bands = try XCTUnwrap(j["bands"] as? [[String: Any]])
        XCTAssertEqual(bands.count, c)
        for (i, b) in bands.enumerated() {
            XCTAssertEqual(b["type"] as? String, "Float32")
            XCTAssertEqual(b["block"] as? [Int], [32, 32])
            XCTAssertEqual(b["noDataValue"] as? Double, -9999)
            // NODATA pixels (the diagonal) are excluded from GDAL's statistics.
            var lo = Float.infinity, hi = -Float.infinity
            for y in 0..<h { for x in 0..<w where x != y { lo = min(lo, value(i, y, x)); hi = max(hi, value(i, y, x)) } }
            XCTAssertEqual(b["minimum"] as? Double, Double(lo))
            XCTAssertEqual(b["maximum"] as? Double, Double(hi))
        }
        XCTAssertEqual(bands[0]["description"] as? String, "red")
    }

    func testWindowWithBandSubset() throws {
        let path = dir + "/sample.tif"
        _ = try writeSample(path)
        let r = try Raster(path)
        // A window crossing tile boundaries, bands reordered: C×H×W in the order asked.
        let (x0, y0, ww, hh) = (25, 30, 17, 13)
        let bands = [3, 1]
        let got: [Float] = try r.read(x: x0, y: y0, width: ww, height: hh, bands: bands)
        var want = [Float]()
        for b in bands { for y in y0..<(y0 + hh) { for x in x0..<(x0 + ww) { want.append(value(b - 1, y, x)) } } }
        XCTAssertEqual(got, want)
        // Same window converted to Double through GDAL.
        let d: [Double] = try r.read(x: x0, y: y0, width: ww, height: hh, bands: [2], as: Double.self)
        XCTAssertEqual(d, (y0..<(y0 + hh)).flatMap { y in (x0..<(x0 + ww)).map { Double(value(1, y, $0)) } })
    }

    func testUInt8Labels() throws {
        let path = dir + "/labels.tif"
        let (lw, lh) = (33, 20)
        let labels = (0..<(lw * lh)).map { UInt8($0 % 11 == 0 ? 255 : $0 % 7) }
        try GeoTIFF.write(path, width: lw, height: lh, bands: 1, data: labels, geoTransform: gt,
                          projection: "EPSG:4326", noData: 255, tileSize: 16)
        let r = try Raster(path)
        XCTAssertEqual(try r.dataType(band: 1), "Byte")
        XCTAssertEqual(r.epsg, 4326)
        XCTAssertEqual(try r.noData(band: 1), 255)
        let back: [UInt8] = try r.read(x: 0, y: 0, width: lw, height: lh, as: UInt8.self)
        XCTAssertEqual(back, labels)
        let asFloat: [Float] = try r.read(x: 1, y: 2, width: 3, height: 1)
        XCTAssertEqual(asFloat, [labels[2 * lw + 1], labels[2 * lw + 2], labels[2 * lw + 3]].map(Float.init))
    }

    func testErrorsNameTheFile() throws {
        let missing = dir + "/nope.tif"
        XCTAssertThrowsError(try Raster(missing)) { e in
            XCTAssertTrue("\(e)".contains(missing) && "\(e)".contains("no such file"), "\(e)")
        }
        let garbage = dir + "/garbage.tif"
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: URL(fileURLWithPath: garbage))
        XCTAssertThrowsError(try Raster(garbage)) { e in XCTAssertTrue("\(e)".contains(garbage), "\(e)") }

        // A real GeoTIFF cut short: opening or reading must fail, naming the file.
        let good = dir + "/good.tif"
        _ = try writeSample(good)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let cut = dir + "/cut.tif"
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try { let r = try Raster(cut); _ = try r.read(x: 0, y: 0, width: w, height: h) as [Float] }()) { e in
            XCTAssertTrue("\(e)".contains(cut), "\(e)")
        }

        let r = try Raster(good)
        XCTAssertThrowsError(try r.read(x: 60, y: 0, width: 20, height: 5) as [Float]) { e in
            XCTAssertTrue("\(e)".contains(good) && "\(e)".contains("outside"), "\(e)")
        }
        XCTAssertThrowsError(try r.read(x: 0, y: 0, width: 4, height: 4, bands: [1, 4]) as [Float]) { e in
            XCTAssertTrue("\(e)".contains("band 4"), "\(e)")
        }
        XCTAssertThrowsError(try r.noData(band: 0)) { e in XCTAssertTrue("\(e)".contains("band 0"), "\(e)") }
        XCTAssertThrowsError(try GeoTIFF.write(dir + "/bad.tif", width: 4, height: 4, bands: 1, data: [Float](repeating: 0, count: 15))) { e in
            XCTAssertTrue("\(e)".contains("bad.tif") && "\(e)".contains("16"), "\(e)")
        }
        XCTAssertThrowsError(try GeoTIFF.write(dir + "/bad.tif", width: 4, height: 4, bands: 1,
                                               data: [Float](repeating: 0, count: 16), projection: "EPSG:-5")) { e in
            XCTAssertTrue("\(e)".contains("projection"), "\(e)")
        }
        XCTAssertThrowsError(try GeoTIFF.write(dir + "/no/such/dir/x.tif", width: 4, height: 4, bands: 1,
                                               data: [Float](repeating: 0, count: 16))) { e in
            XCTAssertTrue("\(e)".contains("no/such/dir/x.tif"), "\(e)")
        }
    }
}
