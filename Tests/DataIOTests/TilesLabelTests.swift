import DataIO
import Foundation
import XCTest

/// Labels on another grid or CRS: multi-hot proportions and majority classes.
final class TilesLabelTests: XCTestCase {
    var fx: TileFixture!
    override func setUpWithError() throws { fx = try TileFixture("label") }
    override func tearDown() { fx.remove() }

    func read(_ opts: TileOptions) throws -> (WindowGrid, WindowSample) {
        let g = try WindowGrid(try TileRepository(path: fx.root), options: opts)
        let r = WindowReader(grid: g)
        let s = r.makeSample()
        try r.read(g.windows[0], into: s)
        return (g, s)
    }

    func props(_ s: WindowSample, _ p: Int) -> [Float] {
        let n = s.layout.pixels
        return (0..<s.layout.classes).map { s.proportions!.data[$0 * n + p] }
    }

    func testHandComputedProportionsUnderOneTargetPixel() throws {
        // 10 m image, 5 m label (2×2 label pixels per target pixel); shard.json maps values
        // 1, 2, 3 to classes 0, 1, 2 and 0 is NODATA.
        try fx.manifest(#"{"classes": [{"value": 1}, {"value": 2}, {"value": 3}], "label_nodata": 0}"#)
        try fx.raster("t/image.tif", width: 4, height: 4) { _, _, _ in 1 }
        let block: [[Float]] = [[1, 1, 2, 3, 3, 3, 0, 0],
                                [2, 0, 2, 2, 3, 3, 0, 0],
                                [1, 1, 1, 1, 7, 7, 7, 2],
                                [1, 1, 1, 1, 7, 7, 7, 3]]
        try fx.raster("t/label.tif", width: 8, height: 8, pixel: 5) { _, y, x in y < 4 ? block[y][x] : 1 }
        let (_, s) = try read(TileOptions(windowSize: 4, labels: .proportions, maxNodataFraction: 1))
        // {1, 1, 2, NODATA} → 2/3, 1/3, 0.
        XCTAssertEqual(props(s, 0), [2.0 / 3, 1.0 / 3, 0])
        XCTAssertEqual(props(s, 1), [0, 3.0 / 4, 1.0 / 4])
        XCTAssertEqual(props(s, 2), [0, 0, 1])
        XCTAssertEqual(props(s, 3), [0, 0, 0]) // all NODATA: masked
        XCTAssertEqual(s.mask.data[3], 0)
        XCTAssertEqual(props(s, 6), [0, 0, 0]) // 7 is not a class: NODATA
        XCTAssertEqual(props(s, 7), [0, 1.0 / 2, 1.0 / 2])
        for p in 0..<16 where s.mask.data[p] == 1 {
            XCTAssertEqual(props(s, p).reduce(0, +), 1, accuracy: 1e-6, "pixel \(p)")
        }
        // Hard labels: the majority (ties: the lower index).
        let (_, h) = try read(TileOptions(windowSize: 4, labels: .hard, maxNodataFraction: 1))
        XCTAssertEqual(Array(h.hardLabels!.prefix(8)), [0, 1, 2, -1, 0, 0, -1, 1])
    }

    func testCoarseLabelGivesAreaFractions() throws {
        // 30 m image under a 100 m label: target pixel 3 spans x 90–120 m, 10 m in label pixel 0
        // (class 0) and 20 m in label pixel 1 (class 1).
        try fx.raster("t/image.tif", width: 10, height: 10, pixel: 30) { _, _, _ in 1 }
        try fx.raster("t/label.tif", width: 3, height: 3, pixel: 100) { _, _, x in Float(x % 2) }
        let (_, s) = try read(TileOptions(windowSize: 10, labels: .proportions, classCount: 2))
        for y in 0..<10 {
            XCTAssertEqual(props(s, y * 10 + 2)[0], 1, accuracy: 1e-6)
            XCTAssertEqual(props(s, y * 10 + 3)[0], 1.0 / 3, accuracy: 1e-6)
            XCTAssertEqual(props(s, y * 10 + 3)[1], 2.0 / 3, accuracy: 1e-6)
            XCTAssertEqual(props(s, y * 10 + 6)[1], 2.0 / 3, accuracy: 1e-6) // 180–210 m: 20 m class 1, 10 m class 0
            XCTAssertEqual(props(s, y * 10 + 6)[0], 1.0 / 3, accuracy: 1e-6)
        }
    }

    func testLabelInAnotherCRSAgreesWithGdalwarpAverageOverOneHotBands() throws {
        // Image in UTM 33N at 20 m; label drawn in UTM 33N at 10 m, then warped by GDAL to
        // EPSG:3035 (LAEA Europe) at 25 m: classes in 160 m stripes, some NODATA.
        try fx.raster("t/image.tif", width: 40, height: 40, pixel: 20) { _, _, _ in 1 }
        let classOf: (Int, Int) -> Float = { y, x in (y / 30 == 1 && x / 30 == 1) ? 255 : Float(((x + y / 3) / 16) % 3) }
        let src = try fx.raster("label-utm.tif", width: 80, height: 80, pixel: 10, noData: 255) { _, y, x in classOf(y, x) }
        try TileFixture.gdal("gdalwarp", ["-t_srs", "EPSG:3035", "-tr", "25", "25", "-r", "near", "-ot", "Byte",
                                          src, fx.root + "/t/label.tif"])
        let (_, s) = try read(TileOptions(windowSize: 40, labels: .proportions, classCount: 3, maxNodataFraction: 1))

        // GDAL's reference: one-hot bands of the warped label, averaged back onto the image grid.
        let lab = try TileFixture.readAll(fx.root + "/t/label.tif")
        let lr = try Raster(fx.root + "/t/label.tif")
        var onehot = [Float](repeating: 0, count: 3 * lab.w * lab.h)
        for i in 0..<(lab.w * lab.h) {
            let v = lab.values[i]
            for k in 0..<3 { onehot[k * lab.w * lab.h + i] = v == 255 ? -1 : (Int(v) == k ? 1 : 0) }
        }
        let oh = fx.root + "/onehot.tif"
        try GeoTIFF.write(oh, width: lab.w, height: lab.h, bands: 3, data: onehot, geoTransform: lr.geoTransform,
                          projection: lr.projectionWKT, noData: -1)
        let avg = fx.root + "/avg.tif"
        try TileFixture.gdal("gdalwarp", ["-t_srs", "EPSG:32633", "-te", "500000", "4599200", "500800", "4600000",
                                          "-tr", "20", "20", "-r", "average", oh, avg])
        let ref = try TileFixture.readAll(avg)
        var diff = 0.0, compared = 0
        for p in 0..<1600 where s.mask.data[p] == 1 {
            XCTAssertEqual(props(s, p).reduce(0, +), 1, accuracy: 1e-5)
            guard ref.values[p] >= 0 else { continue }
            for k in 0..<3 { diff += Double(abs(props(s, p)[k] - ref.values[k * 1600 + p])) }
            compared += 1
        }
        XCTAssertGreaterThan(compared, 1000)
        print(String(format: "proportions vs gdalwarp -r average over one-hot bands: mean |diff| %.4f over %d pixels",
                     diff / Double(compared * 3), compared))
        // Both are area averages of the same one-hot classes; they differ only in how a
        // target pixel's footprint is cut (ours: exact fractions of the corner box).
        XCTAssertLessThan(diff / Double(compared * 3), 0.01, "mean |ours − GDAL average|")
        // Far from class edges and NODATA, the class is pure and right.
        let yy = 5, xx = 2 // 20 m pixel (5, 2) = 10 m pixels (10–11, 4–5): class ((4 + 3) / 16) % 3 = 0
        XCTAssertEqual(props(s, yy * 40 + xx), [1, 0, 0])
        XCTAssertEqual(s.mask.data[20 * 40 + 20], 0, "NODATA block in the label masks the image")
    }

    func testRegressionTargetOnACoarserGrid() throws {
        try fx.raster("t/image.tif", width: 8, height: 8) { _, _, _ in 1 }
        try fx.raster("t/target.tif", width: 4, height: 4, pixel: 20, noData: -1) { _, y, x in
            y == 3 && x == 3 ? -1 : Float(y * 4 + x) + 0.5
        }
        let (g, s) = try read(TileOptions(windowSize: 8, labels: .none, readTarget: true, maxNodataFraction: 1))
        XCTAssertEqual(g.layout.targetShape?.dims, [1, 8, 8])
        for y in 0..<8 { for x in 0..<8 {
            let p = y * 8 + x
            if y >= 6 && x >= 6 {
                XCTAssertEqual(s.mask.data[p], 0)
                XCTAssertEqual(s.target!.data[p], 0)
            } else {
                XCTAssertEqual(s.target!.data[p], Float((y / 2) * 4 + x / 2) + 0.5)
            }
        } }
    }
}
