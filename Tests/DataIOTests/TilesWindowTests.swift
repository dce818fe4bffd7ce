import DataIO
import Foundation
import XCTest

/// Window contents against GDAL's own extraction, NODATA in both directions, the NODATA
/// threshold and augmentation.
final class TilesWindowTests: XCTestCase {
    var fx: TileFixture!
    override func setUpWithError() throws { fx = try TileFixture("window") }
    override func tearDown() { fx.remove() }

    /// Band b, row y, column x: distinct, not a multiple of anything the block size divides.
    static func pattern(_ b: Int, _ y: Int, _ x: Int) -> Float { Float(b * 7919 + y * 131 + x * 3 + (x * y) % 17) }

    /// Reads every window and compares it with `gdal_translate -srcwin` of the image file.
    func assertWindowsMatchGdal(_ imagePath: String, window: Int, stride: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let g = try WindowGrid(try TileRepository(path: fx.root), options: .plain(window: window, stride: stride))
        let r = WindowReader(grid: g)
        let s = r.makeSample()
        XCTAssertGreaterThan(g.windows.count, 1, file: file, line: line)
        let c = g.layout.channels
        // A few windows (the first, the last — flush with the edges — and two between): each
        // gdal_translate run costs about 0.1 s.
        let n = g.windows.count
        for i in Set([0, n / 3, 2 * n / 3, n - 1]).sorted() {
            let w = g.windows[i]
            try r.read(w, into: s)
            let out = fx.root + "/srcwin.tif"
            try TileFixture.gdal("gdal_translate", ["-srcwin", "\(w.x)", "\(w.y)", "\(window)", "\(window)", "-ot", "Float32", imagePath, out])
            let ref = try TileFixture.readAll(out)
            XCTAssertEqual([ref.c, ref.h, ref.w], [c, window, window], file: file, line: line)
            XCTAssertEqual(s.image.array, ref.values, "window \(w)", file: file, line: line)
            XCTAssertEqual(s.validPixels, window * window, file: file, line: line)
        }
    }

    func testWindowsEqualGdalTranslateSrcwinOnRstrainFile() throws {
        let p = try fx.raster("t/image.tif", width: 90, height: 70, bands: 3, tile: 32, value: Self.pattern)
        try assertWindowsMatchGdal(p, window: 32, stride: 32)
    }

    func testWindowsEqualGdalTranslateSrcwinOnGdalWrittenFiles() throws {
        // gdal_translate to Int16, striped (no tiling), LZW; gdalwarp to a tiled UInt16 file.
        let src = try fx.raster("src.tif", width: 90, height: 70, bands: 2, tile: 16, value: Self.pattern)
        try fx.dir("t")
        try TileFixture.gdal("gdal_translate", ["-ot", "Int16", "-co", "COMPRESS=LZW", src, fx.root + "/t/image.tif"])
        try assertWindowsMatchGdal(fx.root + "/t/image.tif", window: 24, stride: 20)
        try FileManager.default.removeItem(atPath: fx.root + "/t/image.tif")
        try TileFixture.gdal("gdalwarp", ["-ot", "UInt16", "-co", "TILED=YES", "-co", "BLOCKXSIZE=16", "-co", "BLOCKYSIZE=16",
                                          "-co", "COMPRESS=DEFLATE", src, fx.root + "/t/image.tif"])
        try assertWindowsMatchGdal(fx.root + "/t/image.tif", window: 32, stride: 16)
    }

    func testImageNodataMasksLabelAndLabelNodataMasksImage() throws {
        // Image NODATA (-9999) on the diagonal of band 2, NaN at (3, 5) in band 1; label
        // NODATA (255) in column 6 and value 9 (not a class) at (1, 2).
        try fx.raster("t/image.tif", width: 16, height: 16, bands: 2, noData: -9999) { b, y, x in
            if b == 1 && x == y { return -9999 }
            if b == 0 && y == 3 && x == 5 { return .nan }
            return Float(100 + y * 16 + x)
        }
        try fx.raster("t/label.tif", width: 16, height: 16, noData: 255) { _, y, x in
            x == 6 ? 255 : (y == 1 && x == 2 ? 9 : Float((x / 4) % 3))
        }
        let repo = try TileRepository(path: fx.root)
        func masked(_ y: Int, _ x: Int) -> Bool { x == y || (y == 3 && x == 5) || x == 6 || (y == 1 && x == 2) }
        for mode in [TileOptions.LabelMode.proportions, .hard] {
            let g = try WindowGrid(repo, options: TileOptions(windowSize: 16, labels: mode, classCount: 3, maxNodataFraction: 1))
            let r = WindowReader(grid: g)
            let s = r.makeSample()
            try r.read(g.windows[0], into: s)
            for y in 0..<16 {
                for x in 0..<16 {
                    let p = y * 16 + x
                    let m = masked(y, x)
                    XCTAssertEqual(s.mask.data[p], m ? 0 : 1, "mask (\(y), \(x)) \(mode)")
                    XCTAssertEqual(s.image.data[p], m ? 0 : Float(100 + p), "band 1 (\(y), \(x))")
                    XCTAssertEqual(s.image.data[256 + p], m ? 0 : Float(100 + p), "band 2 (\(y), \(x))")
                    if let h = s.hardLabels {
                        XCTAssertEqual(h[p], m ? -1 : Int32((x / 4) % 3), "hard (\(y), \(x))")
                    } else {
                        let props = (0..<3).map { s.proportions!.data[$0 * 256 + p] }
                        XCTAssertEqual(props, m ? [0, 0, 0] : (0..<3).map { $0 == (x / 4) % 3 ? 1 : 0 }, "props (\(y), \(x))")
                    }
                }
            }
            XCTAssertEqual(s.validPixels, 256 - 16 - 16 + 1 - 1 - 1)
        }
    }

    func testWindowsOverTheNodataThresholdAreSkipped() throws {
        // 64×64 image, 32-pixel windows: the top-right window is 75 % NODATA, the bottom-left
        // 25 % (label NODATA).
        try fx.raster("t/image.tif", width: 64, height: 64, noData: -1) { _, y, x in
            x >= 32 && y < 32 && !(x < 48 && y < 16) ? -1 : 1
        }
        try fx.raster("t/label.tif", width: 64, height: 64, noData: 255) { _, y, x in
            x < 32 && y >= 32 && x < 16 && y < 48 ? 255 : 0
        }
        let g = try WindowGrid(try TileRepository(path: fx.root),
                               options: TileOptions(windowSize: 32, labels: .hard, classCount: 1, maxNodataFraction: 0.5))
        let r = WindowReader(grid: g)
        let s = r.makeSample()
        let status = try g.windows.map { try r.read($0, into: s) }
        XCTAssertEqual(status.map(\.validFraction), [1, 0.25, 0.75, 1])
        XCTAssertEqual(status.map(\.skipped), [false, true, false, false])
        XCTAssertEqual(try r.scan().map { [$0.x, $0.y] }, [[0, 0], [0, 32], [32, 32]])
        // A label window that is NODATA past the threshold is skipped before the image is read.
        let g2 = try WindowGrid(try TileRepository(path: fx.root),
                                options: TileOptions(windowSize: 32, labels: .hard, classCount: 1, maxNodataFraction: 0.2))
        XCTAssertEqual(try WindowReader(grid: g2).read(g2.windows[2], into: WindowReader(grid: g2).makeSample()),
                       WindowStatus(validFraction: 0.75, skipped: true))
    }

    func testAugmentationMovesImageLabelMaskAndTargetAlike() throws {
        try fx.raster("t/image.tif", width: 8, height: 8, bands: 2, noData: -1) { b, y, x in
            y == 0 && x == 5 ? -1 : Float(b * 100 + y * 8 + x)
        }
        try fx.raster("t/label.tif", width: 8, height: 8) { _, y, x in Float((y * 8 + x) % 3) }
        try fx.raster("t/target.tif", width: 8, height: 8) { _, y, x in Float(y * 8 + x) / 2 }
        let g = try WindowGrid(try TileRepository(path: fx.root),
                               options: TileOptions(windowSize: 8, labels: .hard, classCount: 3, readTarget: true, maxNodataFraction: 1))
        let r = WindowReader(grid: g)
        let plain = r.makeSample(), aug = r.makeSample()
        try r.read(g.windows[0], into: plain)
        var seen = Set<Augmentation>()
        for i in 0..<64 { seen.insert(Augmentation.random(seed: 5, epoch: 0, index: i)) }
        XCTAssertEqual(seen.count, 8, "all 8 symmetries are drawn")
        XCTAssertEqual(Augmentation.random(seed: 5, epoch: 3, index: 9), Augmentation.random(seed: 5, epoch: 3, index: 9))
        for a in seen {
            try r.read(g.windows[0], into: aug, augmentation: a)
            for y in 0..<8 {
                for x in 0..<8 {
                    // Where did output pixel (y, x) come from? Undo the turns, then the flip.
                    var (sy, sx) = (y, x)
                    for _ in 0..<a.rotations { (sy, sx) = (sx, 7 - sy) }
                    if a.flip { sx = 7 - sx }
                    let (p, q) = (y * 8 + x, sy * 8 + sx)
                    XCTAssertEqual(aug.image.data[p], plain.image.data[q], "\(a)")
                    XCTAssertEqual(aug.image.data[64 + p], plain.image.data[64 + q], "\(a)")
                    XCTAssertEqual(aug.mask.data[p], plain.mask.data[q], "\(a)")
                    XCTAssertEqual(aug.hardLabels![p], plain.hardLabels![q], "\(a)")
                    XCTAssertEqual(aug.target!.data[p], plain.target!.data[q], "\(a)")
                }
            }
        }
        // One quarter turn counter-clockwise: the top-right corner comes to the top-left.
        try r.read(g.windows[0], into: aug, augmentation: Augmentation(rotations: 1))
        XCTAssertEqual(aug.image.data[0], 7)
        XCTAssertEqual(aug.mask.data[2 * 8 + 0], 0) // the NODATA pixel (0, 5) lands at (2, 0)
        XCTAssertEqual(aug.image.data[2 * 8 + 0], 0)
    }

    func testOneReaderPerThreadGivesTheSameWindows() throws {
        try fx.raster("t/image.tif", width: 96, height: 96, bands: 3, tile: 32, value: Self.pattern)
        try fx.raster("t/label.tif", width: 48, height: 48, pixel: 20) { _, y, x in Float((x + y) % 4) }
        let g = try WindowGrid(try TileRepository(path: fx.root),
                               options: TileOptions(windowSize: 32, labels: .proportions, classCount: 4, blockCacheBytes: 64 << 20))
        let single = WindowReader(grid: g)
        XCTAssertEqual(GDAL.cacheBytes, 64 << 20) // set when a reader starts
        let ref = try g.windows.map { w -> [Float] in
            let s = single.makeSample()
            try single.read(w, into: s)
            return s.image.array + s.proportions!.array + s.mask.array
        }
        // Four threads, each with its own reader (its own GDAL handles), windows in another order.
        let results = UnsafeMutablePointer<[[Float]]>.allocate(capacity: 4)
        results.initialize(repeating: [], count: 4)
        defer { results.deinitialize(count: 4); results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { k in
            let r = WindowReader(grid: g)
            let s = r.makeSample()
            var out = [[Float]](repeating: [], count: g.windows.count)
            for i in g.windows.indices.reversed() {
                guard (try? r.read(g.windows[i], into: s)) != nil else { return }
                out[i] = s.image.array + s.proportions!.array + s.mask.array
            }
            results[k] = out
        }
        for k in 0..<4 { XCTAssertEqual(results[k], ref, "thread \(k)") }
    }

    /// Every window of fully valid UInt16 rasters (NODATA 0, never hit) is read, shuffled and
    /// augmented over two passes, and none is skipped: one 10-band image.tif, and the Sentinel-2
    /// layout (4 band files at 10 m, 6 at 20 m resampled bilinear, a 20 m label as proportions).
    /// How fast: `rstrain bench data`.
    func testFullyValidWindowsAreNeverSkippedInEitherLayout() throws {
        let (side, half) = (512, 256)
        func write(_ rel: String, size: Int, bands: Int, pixel: Double, band0: Int) throws {
            var data = [UInt16](repeating: 0, count: bands * size * size)
            for b in 0..<bands { for y in 0..<size { for x in 0..<size {
                // Sentinel-2-like reflectances: smooth fields plus texture.
                let v = 500 + (band0 + b) * 200 + (x * 7 + y * 3) % 400 + ((x * y) & 63)
                data[(b * size + y) * size + x] = UInt16(v)
            } } }
            try GeoTIFF.write(fx.root + "/" + rel, width: size, height: size, bands: bands, data: data,
                              geoTransform: [500_000, pixel, 0, 4_600_000, 0, -pixel], projection: "EPSG:32633",
                              noData: 0, tileSize: 256)
        }
        func assertNoneSkipped(_ opts: TileOptions, file: StaticString = #filePath, line: UInt = #line) throws {
            let g = try WindowGrid(try TileRepository(path: fx.root), options: opts)
            let r = WindowReader(grid: g)
            defer { r.close() }
            let s = r.makeSample()
            var reads = 0
            for pass in 0..<2 {
                for w in g.shuffled(seed: 1, epoch: pass) {
                    let st = try r.read(w, into: s, augmentation: .random(seed: 1, epoch: pass, index: reads))
                    XCTAssertFalse(st.skipped, "\(w)", file: file, line: line)
                    reads += 1
                }
            }
            XCTAssertEqual(reads, 2 * 4, file: file, line: line)
        }
        let mb = 256 << 20
        try fx.dir("a")
        try write("a/image.tif", size: side, bands: 10, pixel: 10, band0: 0)
        try fx.raster("a/label.tif", width: side, height: side, tile: 256) { _, y, x in Float((x / 100 + y / 100) % 5) }
        try assertNoneSkipped(TileOptions(labels: .hard, classCount: 5, blockCacheBytes: mb))
        try FileManager.default.removeItem(atPath: fx.root + "/a")

        try fx.dir("s2")
        for (i, b) in ["B02", "B03", "B04", "B08"].enumerated() {
            try write("s2/\(b).tif", size: side, bands: 1, pixel: 10, band0: i)
        }
        for (i, b) in ["B05", "B06", "B07", "B8A", "B11", "B12"].enumerated() {
            try write("s2/\(b).tif", size: half, bands: 1, pixel: 20, band0: 4 + i)
        }
        try fx.raster("s2/label.tif", width: half, height: half, pixel: 20, tile: 256) { _, y, x in
            Float((x / 50 + y / 50) % 5)
        }
        try assertNoneSkipped(TileOptions(labels: .proportions, classCount: 5, blockCacheBytes: mb))
    }
}
