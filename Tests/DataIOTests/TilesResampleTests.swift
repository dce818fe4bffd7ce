import DataIO
import Foundation
import XCTest

/// Bands of different resolutions brought onto the target grid.
final class TilesResampleTests: XCTestCase {
    var fx: TileFixture!
    override func setUpWithError() throws { fx = try TileFixture("resample") }
    override func tearDown() { fx.remove() }

    /// A bright 80 m × 80 m square at x 200–280 m, y 120–200 m from the tile's corner, in a
    /// 10 m band (pixels 20–27 × 12–19) and a 20 m band (pixels 10–13 × 6–9).
    func writeSquare() throws {
        try fx.raster("t/B02.tif", width: 64, height: 48, noData: 0, tile: 16) { _, y, x in
            (20..<28).contains(x) && (12..<20).contains(y) ? 1000 : 100
        }
        try fx.raster("t/B11.tif", width: 32, height: 24, pixel: 20, noData: 0, tile: 16) { _, y, x in
            (10..<14).contains(x) && (6..<10).contains(y) ? 2000 : 200
        }
    }

    func read(_ opts: TileOptions) throws -> (WindowGrid, WindowSample) {
        let g = try WindowGrid(try TileRepository(path: fx.root), options: opts)
        let r = WindowReader(grid: g)
        let s = r.makeSample()
        try r.read(g.windows[0], into: s)
        return (g, s)
    }

    func testTwentyMetreBandLandsOnTheTenMetreFeature() throws {
        try writeSquare()
        for resampling in [TileOptions.Resampling.nearest, .bilinear] {
            let (g, s) = try read(TileOptions(windowSize: 48, labels: .none, resampling: resampling))
            XCTAssertEqual(g.bandNames, ["B02", "B11"])
            XCTAssertEqual(g.plans[0].grid.resolution, 10)
            let n = 48 * 48
            func b11(_ y: Int, _ x: Int) -> Float { s.image.data[n + y * 48 + x] }
            func b02(_ y: Int, _ x: Int) -> Float { s.image.data[y * 48 + x] }
            // Inside the square (away from its edge) both bands are bright; outside both dark.
            for y in 13..<19 { for x in 21..<27 { XCTAssertEqual(b11(y, x), 2000, "\(resampling) (\(y), \(x))"); XCTAssertEqual(b02(y, x), 1000) } }
            for (y, x) in [(10, 20), (12, 18), (21, 27), (12, 29), (0, 0), (40, 47)] {
                XCTAssertEqual(b11(y, x), 200, "\(resampling) (\(y), \(x))")
                XCTAssertEqual(b02(y, x), 100)
            }
            if resampling == .nearest {
                // Each 20 m pixel becomes exactly 2×2 target pixels.
                for y in 0..<48 { for x in 0..<48 {
                    XCTAssertEqual(b11(y, x) == 2000, b02(y, x) == 1000, "(\(y), \(x))")
                } }
            } else {
                // Bilinear: the square's border pixels are blends, symmetric about its centre.
                XCTAssertEqual(b11(12, 20), 200 + 1800 * 0.75 * 0.75, accuracy: 1e-3)
                XCTAssertEqual(b11(15, 20), 200 + 1800 * 0.75, accuracy: 1e-3)
                XCTAssertEqual(b11(19, 27), b11(12, 20), accuracy: 1e-3)
                XCTAssertEqual(b11(11, 20), 200 + 1800 * 0.25 * 0.75, accuracy: 1e-3) // just outside
                XCTAssertEqual(b11(20, 27), b11(11, 20), accuracy: 1e-3)
            }
        }
    }

    func testResampledBandsMatchGdalwarp() throws {
        try writeSquare()
        // gdalwarp puts B11 on the 10 m grid; nearest must agree everywhere, bilinear inside
        // (GDAL's edge handling differs by design).
        for (resampling, gdal) in [(TileOptions.Resampling.nearest, "near"), (.bilinear, "bilinear")] {
            let warped = fx.root + "/b11-\(gdal).tif"
            try TileFixture.gdal("gdalwarp", ["-tr", "10", "10", "-te", "500000", "4599520", "500640", "4600000",
                                              "-r", gdal, fx.root + "/t/B11.tif", warped])
            let ref = try TileFixture.readAll(warped)
            let (_, s) = try read(TileOptions(windowSize: 48, labels: .none, resampling: resampling))
            for y in 1..<47 { for x in 1..<47 {
                XCTAssertEqual(s.image.data[48 * 48 + y * 48 + x], ref.values[y * 64 + x], accuracy: 1e-2, "\(gdal) (\(y), \(x))")
            } }
        }
    }

    func testCoarserTargetResolution() throws {
        try writeSquare()
        // At 20 m the 10 m band is resampled down (nearest: the pixel under the centre).
        let (g, s) = try read(TileOptions(resolution: 20, windowSize: 24, labels: .none, resampling: .nearest))
        XCTAssertEqual([g.plans[0].grid.width, g.plans[0].grid.height], [32, 24])
        let n = 24 * 24
        for y in 0..<24 { for x in 0..<24 {
            XCTAssertEqual(s.image.data[y * 24 + x] == 1000, s.image.data[n + y * 24 + x] == 2000, "(\(y), \(x))")
        } }
        XCTAssertEqual(s.image.data[6 * 24 + 10], 1000)
    }

    func testNodataInACoarseBandMasksTheTargetPixelsItCovers() throws {
        try fx.raster("t/B02.tif", width: 16, height: 16, noData: 0) { _, _, _ in 5 }
        try fx.raster("t/B11.tif", width: 8, height: 8, pixel: 20, noData: 0) { _, y, x in y == 2 && x == 3 ? 0 : 7 }
        for resampling in [TileOptions.Resampling.nearest, .bilinear] {
            let (_, s) = try read(TileOptions(windowSize: 16, labels: .none, maxNodataFraction: 1, resampling: resampling))
            for y in 0..<16 { for x in 0..<16 {
                let m: Float = (4..<6).contains(y) && (6..<8).contains(x) ? 0 : 1
                XCTAssertEqual(s.mask.data[y * 16 + x], m, "\(resampling) (\(y), \(x))")
                // Bilinear blends leave NODATA neighbours out: every valid pixel stays 7.
                if m == 1 { XCTAssertEqual(s.image.data[256 + y * 16 + x], 7, "\(resampling) (\(y), \(x))") }
            } }
        }
    }
}
