import DataIO
import Foundation
import XCTest

/// A stack of dates: C×T×H×W window samples and per-pixel C×T sequences.
final class TilesTimeSeriesTests: XCTestCase {
    var fx: TileFixture!
    override func setUpWithError() throws { fx = try TileFixture("series") }
    override func tearDown() { fx.remove() }

    static let dates = ["2020-03-01", "2020-01-01", "2020-02-01"] // written out of order

    /// Band c at date t (sorted index), pixel (y, x).
    static func value(_ c: Int, _ t: Int, _ y: Int, _ x: Int) -> Float { Float(c * 1000 + t * 100 + y * 10 + x) }

    func writeSeries() throws {
        let sorted = Self.dates.sorted()
        for d in Self.dates {
            let t = sorted.firstIndex(of: d)!
            // B04 at 10 m, B8A at 20 m (constant per 2×2), NODATA at (1, 2) on the second date.
            try fx.raster("t/\(d)/B04.tif", width: 8, height: 8, noData: -1) { _, y, x in
                t == 1 && y == 1 && x == 2 ? -1 : Self.value(0, t, y, x)
            }
            try fx.raster("t/\(d)/B8A.tif", width: 4, height: 4, pixel: 20, noData: -1) { _, y, x in Self.value(1, t, y, x) }
        }
        try fx.raster("t/label.tif", width: 8, height: 8) { _, y, _ in Float(y % 2) }
    }

    func testWindowIsChannelsThenDates() throws {
        try writeSeries()
        let g = try WindowGrid(try TileRepository(path: fx.root),
                               options: TileOptions(windowSize: 8, labels: .hard, classCount: 2, resampling: .nearest))
        XCTAssertTrue(g.layout.timeSeries)
        XCTAssertEqual(g.layout.imageShape.dims, [2, 3, 8, 8])
        let r = WindowReader(grid: g)
        let s = r.makeSample()
        try r.read(g.windows[0], into: s)
        for c in 0..<2 { for t in 0..<3 { for y in 0..<8 { for x in 0..<8 {
            let p = y * 8 + x
            let got = s.image.data[((c * 3 + t) * 8 + y) * 8 + x]
            if y == 1 && x == 2 {
                XCTAssertEqual(got, 0) // NODATA at one date masks the pixel at every date and band
                XCTAssertEqual(s.mask.data[p], 0)
                continue
            }
            let want = c == 0 ? Self.value(0, t, y, x) : Self.value(1, t, y / 2, x / 2)
            XCTAssertEqual(got, want, "c \(c) t \(t) (\(y), \(x))")
        } } } }

    }

    func testDatesMustHaveTheSameBands() throws {
        try writeSeries()
        try FileManager.default.removeItem(atPath: fx.root + "/t/2020-02-01/B8A.tif")
        XCTAssertThrowsError(try TileRepository(path: fx.root)) { e in
            let msg = "\(e)"
            XCTAssertTrue(msg.contains("2020-02-01") && msg.contains("same bands"), msg)
        }
    }
}
