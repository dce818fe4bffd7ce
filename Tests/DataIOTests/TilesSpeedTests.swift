import DataIO
import Foundation
import XCTest

/// Read speed of 256×256 windows of 10 bands (printed; `swift test -c release --filter
/// TilesSpeedTests` for the number that matters).
final class TilesSpeedTests: XCTestCase {
    var fx: TileFixture!
    override func setUpWithError() throws { fx = try TileFixture("speed") }
    override func tearDown() { fx.remove() }

    /// Sentinel-2-like UInt16 reflectances: smooth fields plus texture.
    static func reflectance(_ b: Int, _ y: Int, _ x: Int) -> UInt16 {
        UInt16(500 + b * 200 + (x * 7 + y * 3) % 400 + ((x * y) & 63))
    }

    func write(_ rel: String, size: Int, bands: Int, pixel: Double, band0: Int) throws {
        var data = [UInt16](repeating: 0, count: bands * size * size)
        for b in 0..<bands { for y in 0..<size { for x in 0..<size {
            data[(b * size + y) * size + x] = Self.reflectance(band0 + b, y, x)
        } } }
        try GeoTIFF.write(fx.root + "/" + rel, width: size, height: size, bands: bands, data: data,
                          geoTransform: [500_000, pixel, 0, 4_600_000, 0, -pixel], projection: "EPSG:32633",
                          noData: 0, tileSize: 256)
    }

    func measure(_ name: String, _ opts: TileOptions, passes: Int) throws -> Double {
        let g = try WindowGrid(try TileRepository(path: fx.root), options: opts)
        let r = WindowReader(grid: g)
        let s = r.makeSample()
        try r.read(g.windows[0], into: s) // open the files
        let t0 = Date()
        var reads = 0
        for pass in 0..<passes {
            for w in g.shuffled(seed: 1, epoch: pass) {
                let st = try r.read(w, into: s, augmentation: .random(seed: 1, epoch: pass, index: reads))
                XCTAssertFalse(st.skipped)
                reads += 1
            }
        }
        let rate = Double(reads) / Date().timeIntervalSince(t0)
        print(String(format: "TilesSpeed %@: %d windows %@ in %.1f windows/s", name, reads, "\(g.layout.imageShape)", rate))
        return rate
    }

    #if DEBUG
    /// Debug builds are ~10× slower: a smaller tile keeps the test quick there.
    let side = 512
    #else
    let side = 1024
    #endif

    func testReadSpeedOf256WindowsWith10Bands() throws {
        let mb = 256 << 20
        let (side, half) = (self.side, self.side / 2)
        // One 10-band image.tif (10 m, side×side, tiled 256, DEFLATE) and a label on its grid.
        try fx.dir("a")
        try write("a/image.tif", size: side, bands: 10, pixel: 10, band0: 0)
        try fx.raster("a/label.tif", width: side, height: side, tile: 256) { _, y, x in Float((x / 100 + y / 100) % 5) }
        let single = try measure("image.tif 10×10 m", TileOptions(labels: .hard, classCount: 5, blockCacheBytes: mb), passes: 2)
        try FileManager.default.removeItem(atPath: fx.root + "/a")

        // Sentinel-2 layout: 4 band files at 10 m, 6 at 20 m (resampled bilinear), label at 20 m
        // as proportions.
        try fx.dir("s2")
        for (i, b) in ["B02", "B03", "B04", "B08"].enumerated() { try write("s2/\(b).tif", size: side, bands: 1, pixel: 10, band0: i) }
        for (i, b) in ["B05", "B06", "B07", "B8A", "B11", "B12"].enumerated() { try write("s2/\(b).tif", size: half, bands: 1, pixel: 20, band0: 4 + i) }
        try fx.raster("s2/label.tif", width: half, height: half, pixel: 20, tile: 256) { _, y, x in Float((x / 50 + y / 50) % 5) }
        let s2 = try measure("S2 4×10 m + 6×20 m", TileOptions(labels: .proportions, classCount: 5, blockCacheBytes: mb), passes: 2)
        XCTAssertGreaterThan(single, 0)
        XCTAssertGreaterThan(s2, 0)
    }
}
