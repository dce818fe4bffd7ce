@testable import DataIO
import Engine
import Foundation
import XCTest

/// Time series whose pixels lack some dates (clouds flagged NODATA): strict masking by default,
/// or with `maskAnyDate: false` a date mask, missing dates 0 before and after normalisation.
final class TilesDateMaskTests: XCTestCase {
    var fx: TileFixture!
    override func setUpWithError() throws { fx = try TileFixture("datemask") }
    override func tearDown() { fx.remove() }

    static let dates = ["2021-04-01", "2021-06-01", "2021-08-01"]

    /// Band c at date t, pixel (y, x).
    static func value(_ c: Int, _ t: Int, _ y: Int, _ x: Int) -> Float { Float(c * 1000 + t * 100 + y * 10 + x) }

    /// Is (t, y, x) missing? B04 (10 m) is NODATA at (1, 2) on date 1 and at (6, 6) on every
    /// date; B8A (20 m) at its pixel (0, 3) — target pixels (0–1, 6–7) — on date 0.
    static func missing(_ t: Int, _ y: Int, _ x: Int) -> Bool {
        (t == 1 && y == 1 && x == 2) || (y == 6 && x == 6) || (t == 0 && y < 2 && x >= 6)
    }

    func writeSeries() throws {
        for (t, d) in Self.dates.enumerated() {
            try fx.raster("t/\(d)/B04.tif", width: 8, height: 8, noData: -1) { _, y, x in
                (t == 1 && y == 1 && x == 2) || (y == 6 && x == 6) ? -1 : Self.value(0, t, y, x)
            }
            try fx.raster("t/\(d)/B8A.tif", width: 4, height: 4, pixel: 20, noData: -1) { _, y, x in
                t == 0 && y == 0 && x == 3 ? -1 : Self.value(1, t, y, x)
            }
        }
        try fx.raster("t/label.tif", width: 8, height: 8) { _, y, _ in Float(y % 2) }
    }

    func grid(maskAnyDate: Bool) throws -> WindowGrid {
        try WindowGrid(try TileRepository(path: fx.root),
                       options: TileOptions(windowSize: 8, labels: .hard, classCount: 2, maskAnyDate: maskAnyDate, resampling: .nearest))
    }

    func want(_ c: Int, _ t: Int, _ y: Int, _ x: Int) -> Float { c == 0 ? Self.value(0, t, y, x) : Self.value(1, t, y / 2, x / 2) }

    func testStrictByDefaultMasksAPixelMissingOnAnyDate() throws {
        try writeSeries()
        XCTAssertTrue(TileOptions().maskAnyDate)
        let g = try grid(maskAnyDate: true)
        XCTAssertNil(g.layout.dateMaskShape)
        let r = WindowReader(grid: g)
        let s = r.makeSample()
        XCTAssertNil(s.dateMask)
        try r.read(g.windows[0], into: s)
        for y in 0..<8 { for x in 0..<8 {
            let gone = (0..<3).contains { Self.missing($0, y, x) }
            XCTAssertEqual(s.mask.data[y * 8 + x], gone ? 0 : 1, "(\(y), \(x))")
            XCTAssertEqual(s.hardLabels![y * 8 + x], gone ? -1 : Int32(y % 2))
            for c in 0..<2 { for t in 0..<3 {
                XCTAssertEqual(s.image.data[((c * 3 + t) * 8 + y) * 8 + x], gone ? 0 : want(c, t, y, x))
            } }
        } }
        XCTAssertEqual(s.validPixels, 64 - 1 - 1 - 4)
        XCTAssertNil(try WindowDataset(grid: g).shapes.dateMask)
    }

    func testWithoutStrictMaskingAMissingDateIsZeroAndMarked() throws {
        try writeSeries()
        let g = try grid(maskAnyDate: false)
        XCTAssertEqual(g.layout.dateMaskShape?.dims, [3, 8, 8])
        let r = WindowReader(grid: g)
        let s = r.makeSample()
        try r.read(g.windows[0], into: s)
        for y in 0..<8 { for x in 0..<8 {
            let p = y * 8 + x
            let gone = (0..<3).allSatisfy { Self.missing($0, y, x) }
            XCTAssertEqual(s.mask.data[p], gone ? 0 : 1, "(\(y), \(x)): masked only when missing at every date")
            XCTAssertEqual(s.hardLabels![p], gone ? -1 : Int32(y % 2))
            for t in 0..<3 {
                let has = !Self.missing(t, y, x)
                XCTAssertEqual(s.dateMask!.data[t * 64 + p], has ? 1 : 0, "t \(t) (\(y), \(x))")
                // A date missing in one band is missing in every band.
                for c in 0..<2 { XCTAssertEqual(s.image.data[((c * 3 + t) * 8 + y) * 8 + x], has ? want(c, t, y, x) : 0) }
            }
        } }
        XCTAssertEqual(s.validPixels, 63)

        // A quarter turn moves the date mask with the image.
        let turned = r.makeSample()
        try r.read(g.windows[0], into: turned, augmentation: Augmentation(rotations: 1))
        for t in 0..<3 { for y in 0..<8 { for x in 0..<8 {
            // out(y, x) = in(x, 7 − y)
            XCTAssertEqual(turned.dateMask!.data[t * 64 + y * 8 + x], s.dateMask!.data[t * 64 + x * 8 + 7 - y])
        } } }
    }

    func testStatisticsAndNormalisationLeaveMissingDatesOut() throws {
        try writeSeries()
        let d = try WindowDataset(grid: try grid(maskAnyDate: false))
        XCTAssertEqual(d.shapes.dateMask?.dims, [3, 8, 8])
        let stats = try BandStatistics.compute(d)
        // By hand: every (date, pixel) the pixel has, per band.
        for c in 0..<2 {
            var v: [Double] = []
            for t in 0..<3 { for y in 0..<8 { for x in 0..<8 where !Self.missing(t, y, x) { v.append(Double(want(c, t, y, x))) } } }
            let mean = v.reduce(0, +) / Double(v.count)
            XCTAssertEqual(stats.count[c], Double(v.count))
            XCTAssertEqual(stats.mean[c], mean, accuracy: 1e-9)
            XCTAssertEqual(stats.m2[c], v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }, accuracy: 1e-6)
        }
        XCTAssertEqual(stats.count[0], Double(3 * 64 - 8))

        let l = Loader(d, batchSize: 1, shuffle: false, workers: 1, normalization: .statistics(stats))
        let b = try XCTUnwrap(try l.next())
        XCTAssertEqual(b.dateMask?.shape.dims, [1, 3, 8, 8])
        for c in 0..<2 { for t in 0..<3 { for y in 0..<8 { for x in 0..<8 {
            let got = b.image.data[((c * 3 + t) * 8 + y) * 8 + x]
            if Self.missing(t, y, x) {
                XCTAssertEqual(got, 0, "missing date: 0 after normalisation")
                XCTAssertEqual(b.dateMask!.data[t * 64 + y * 8 + x], 0)
            } else {
                XCTAssertEqual(Double(got), (Double(want(c, t, y, x)) - stats.mean[c]) / stats.std[c], accuracy: 1e-5)
            }
        } } } }
        l.close()
    }

    func testCloudyDatesOfASynthShard() throws {
        // Landsat-like, 6 dates, opaque cloud cores written as NODATA.
        let out = fx.root + "/synth"
        let report = try Synth.generate(SynthOptions(preset: .landsat, outDir: out, shards: 1, tilesPerShard: 1, size: 96,
                                                     dates: 6, seed: 8, cloudsAsNoData: true))
        let repo = try TileRepository(path: report.shards[0].path)
        func read(_ any: Bool) throws -> [WindowSample] {
            let g = try WindowGrid(repo, options: TileOptions(windowSize: 32, labels: .none, maskAnyDate: any, maxNodataFraction: 1))
            let r = WindowReader(grid: g)
            return try g.windows.map { w in let s = r.makeSample(); try r.read(w, into: s); return s }
        }
        let strict = try read(true), lenient = try read(false)
        XCTAssertEqual(strict.count, lenient.count)
        var pixels = 0, strictValid = 0, lenientValid = 0, partial = 0
        for (a, b) in zip(strict, lenient) {
            let n = a.layout.pixels, t = a.layout.dates
            XCTAssertEqual(t, 6)
            for p in 0..<n {
                let has = (0..<t).map { b.dateMask!.data[$0 * n + p] != 0 }
                // Strict: valid exactly when every date is there; lenient: when any is.
                XCTAssertEqual(a.mask.data[p] != 0, has.allSatisfy { $0 })
                XCTAssertEqual(b.mask.data[p] != 0, has.contains(true))
                pixels += 1
                if a.mask.data[p] != 0 { strictValid += 1 }
                if b.mask.data[p] != 0 { lenientValid += 1 }
                if has.contains(true) && !has.allSatisfy({ $0 }) { partial += 1 }
            }
        }
        XCTAssertGreaterThan(partial, 0, "some pixels are clouded on some dates only")
        print(String(format: "TilesDateMask: synth Landsat, 6 dates, clouds as NODATA: %.1f %% of pixels valid strict, %.1f %% with maskAnyDate false",
                     100 * Double(strictValid) / Double(pixels), 100 * Double(lenientValid) / Double(pixels)))
    }
}
