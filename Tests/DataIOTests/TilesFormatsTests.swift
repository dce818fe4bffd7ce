import DataIO
import Foundation
import TestSupport
import XCTest

/// A tile's files may be any raster GDAL reads: the same bands and label as GeoTIFFs, as
/// JPEG 2000 (lossless, written by gdal_translate's JP2OpenJPEG driver) and as VRTs (gdal_translate
/// -of VRT), read window by window give the same samples.
final class TilesFormatsTests: XCTestCase {
    var fx: TileFixture!
    override func setUpWithError() throws { fx = try TileFixture("formats") }
    override func tearDown() { fx.remove() }

    func translate(_ from: String, _ to: String, _ options: [String]) throws {
        guard onPath("gdal_translate") else { throw XCTSkip("gdal_translate is not on PATH") }
        let r = try runProcess("gdal_translate", ["-q"] + options + [fx.root + "/" + from, fx.root + "/" + to])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func samples(_ tile: String, in root: String) throws -> (image: [Float], labels: [Int32]) {
        let g = try WindowGrid(try TileRepository(path: root), options: TileOptions(windowSize: 16, labels: .hard, classCount: 4,
                                                                                     maxNodataFraction: 1))
        let r = WindowReader(grid: g)
        defer { r.close() }
        var image: [Float] = [], labels: [Int32] = []
        for w in g.windows {
            let s = r.makeSample()
            try r.read(w, into: s)
            image += Array(UnsafeBufferPointer(start: s.image.data, count: s.image.count))
            labels += Array(s.hardLabels!)
        }
        return (image, labels)
    }

    func testJPEG2000AndVRTFilesReadAsTheirGeoTIFFs() throws {
        // Integer reflectances (as Sentinel-2 stores them) at 10 m and 20 m, labels 0…3 at 10 m.
        try fx.raster("tif/t/B02.tif", width: 32, height: 32) { _, y, x in Float(1000 + 7 * y + x) }
        try fx.raster("tif/t/B11.tif", width: 16, height: 16, pixel: 20) { _, y, x in Float(2000 + 3 * y + 5 * x) }
        try fx.raster("tif/t/label.tif", width: 32, height: 32) { _, y, x in Float((y / 8 + x / 8) % 4) }
        try FileManager.default.createDirectory(atPath: fx.root + "/jp2/t", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: fx.root + "/vrt/t", withIntermediateDirectories: true)
        for (f, type) in [("B02", "UInt16"), ("B11", "UInt16"), ("label", "Byte")] {
            try translate("tif/t/\(f).tif", "jp2/t/\(f).tif.tmp", ["-ot", type, "-of", "GTiff"])
        }
        for f in ["B02", "B11", "label"] {
            try translate("jp2/t/\(f).tif.tmp", "jp2/t/\(f).jp2", ["-of", "JP2OpenJPEG", "-co", "REVERSIBLE=YES", "-co", "QUALITY=100"])
            try translate("tif/t/\(f).tif", "vrt/t/\(f).vrt", ["-of", "VRT"])
            try FileManager.default.removeItem(atPath: fx.root + "/jp2/t/\(f).tif.tmp")
        }
        let tif = try samples("t", in: fx.root + "/tif")
        XCTAssertEqual(tif.image.count, 4 * 2 * 16 * 16)
        XCTAssertEqual(Set(tif.labels), [0, 1, 2, 3])
        for other in ["jp2", "vrt"] {
            let repo = try TileRepository(path: fx.root + "/" + other)
            XCTAssertEqual(repo.tiles[0].bands.map(\.name), ["B02", "B11"], other)
            XCTAssertTrue(repo.tiles[0].label?.path.hasSuffix("label." + other) ?? false, other)
            let s = try samples("t", in: fx.root + "/" + other)
            XCTAssertEqual(s.image, tif.image, other)
            XCTAssertEqual(s.labels, tif.labels, other)
        }
    }

    func testTwoLabelsAreRefused() throws {
        try fx.raster("t/B02.tif", width: 16, height: 16) { _, _, _ in 1 }
        try fx.raster("t/label.tif", width: 16, height: 16) { _, _, _ in 1 }
        try translate("t/label.tif", "t/label.vrt", ["-of", "VRT"])
        XCTAssertThrowsError(try TileRepository(path: fx.root)) { e in
            XCTAssertTrue("\(e)".contains("label.tif and label.vrt"), "\(e)")
        }
    }
}
