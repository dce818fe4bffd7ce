import DataIO
import Foundation
import XCTest

/// Indexing a tile repository (docs/data.md) and enumerating its windows.
final class TilesIndexTests: XCTestCase {
    var fx: TileFixture!
    override func setUpWithError() throws { fx = try TileFixture("index") }
    override func tearDown() { fx.remove() }

    func testIndexRecordsTilesBandsAndRasters() throws {
        // Tile "s2": band files at 10 m and 20 m; tile "multi": one image.tif with band names.
        try fx.raster("s2/B02.tif", width: 64, height: 48, noData: 0, tile: 32) { _, _, _ in 1 }
        try fx.raster("s2/B11.tif", width: 32, height: 24, pixel: 20, noData: 0, tile: 16) { _, _, _ in 2 }
        try fx.raster("s2/label.tif", width: 16, height: 12, pixel: 40, noData: 255) { _, _, _ in 1 }
        try fx.raster("multi/image.tif", width: 40, height: 30, bands: 3, pixel: 30, x0: 300_000, y0: 5_000_000,
                      crs: "EPSG:32632", noData: -9999, names: ["red", "green", "nir"], tile: 16) { b, _, _ in Float(b) }
        try fx.raster("multi/target.tif", width: 40, height: 30, pixel: 30, x0: 300_000, y0: 5_000_000, crs: "EPSG:32632") { _, _, _ in 0.5 }
        try fx.raster("multi/label.tif", width: 40, height: 30, pixel: 30, x0: 300_000, y0: 5_000_000, crs: "EPSG:32632") { _, _, _ in 0 }
        try "notes".write(toFile: fx.root + "/README.txt", atomically: true, encoding: .utf8)

        let repo = try TileRepository(path: fx.root)
        XCTAssertEqual(repo.tiles.map(\.name), ["multi", "s2"])
        XCTAssertNil(repo.manifest.classes)

        let s2 = try XCTUnwrap(repo.tile(named: "s2"))
        XCTAssertEqual(s2.epsg, 32633)
        XCTAssertEqual(s2.footprint, Bounds(minX: 500_000, minY: 4_599_520, maxX: 500_640, maxY: 4_600_000))
        XCTAssertEqual(s2.grid.resolution, 10)
        XCTAssertEqual([s2.grid.width, s2.grid.height], [64, 48])
        XCTAssertEqual([s2.blockWidth, s2.blockHeight], [32, 32])
        XCTAssertEqual(s2.bands.map(\.name), ["B02", "B11"])
        XCTAssertEqual(s2.bands.map(\.resolution), [10, 20])
        XCTAssertEqual(s2.bands.map(\.noData), [0, 0])
        XCTAssertEqual(s2.bands.map(\.dataType), ["Float32", "Float32"])
        XCTAssertEqual(s2.dates, [])
        XCTAssertEqual(s2.label?.grid.resolution, 40)
        XCTAssertEqual(s2.label?.noData, [255])
        XCTAssertNil(s2.target)
        XCTAssertEqual(s2.labelFootprint, s2.footprint)

        let m = try XCTUnwrap(repo.tile(named: "multi"))
        XCTAssertEqual(m.epsg, 32632)
        XCTAssertEqual(m.bands.map(\.name), ["red", "green", "nir"])
        XCTAssertEqual(m.bands.map { $0.sources[0].band }, [1, 2, 3])
        XCTAssertEqual(m.bands.map(\.noData), [-9999, -9999, -9999])
        XCTAssertEqual([m.blockWidth, m.blockHeight], [16, 16])
        XCTAssertNotNil(m.target)
        XCTAssertEqual(m.grid(resolution: 60).width, 20)
    }

    func testShardJsonOrdersBandsAndMapsClasses() throws {
        try fx.manifest("""
        {"sensor": "sentinel2", "bands": [{"name": "B11", "resolution": 20}, {"name": "B02", "resolution": 10}],
         "classes": [{"value": 10, "name": "water"}, {"value": 20, "name": "forest"}], "label_nodata": 0}
        """)
        try fx.raster("t/B02.tif", width: 16, height: 16) { _, _, _ in 1 }
        try fx.raster("t/B11.tif", width: 8, height: 8, pixel: 20) { _, _, _ in 1 }
        try fx.raster("t/label.tif", width: 16, height: 16, noData: 255) { _, _, _ in 10 }
        let repo = try TileRepository(path: fx.root)
        XCTAssertEqual(repo.manifest.sensor, "sentinel2")
        XCTAssertEqual(repo.tiles[0].bands.map(\.name), ["B11", "B02"])
        let table = try repo.classTable(for: repo.tiles[0], count: nil)
        XCTAssertEqual(table.names, ["water", "forest"])
        XCTAssertEqual([10, 20, 0, 255, 30, .nan].map { table.index(of: $0) }, [0, 1, -1, -1, -1, -1])
    }

    func testTimeSeriesIndex() throws {
        for d in ["2021-06-01", "2021-05-01"] {
            try fx.raster("t/\(d)/B04.tif", width: 16, height: 16) { _, _, _ in 1 }
            try fx.raster("t/\(d)/B08.tif", width: 16, height: 16) { _, _, _ in 1 }
        }
        try fx.raster("t/label.tif", width: 16, height: 16) { _, _, _ in 1 }
        let t = try TileRepository(path: fx.root).tiles[0]
        XCTAssertEqual(t.dates, ["2021-05-01", "2021-06-01"])
        XCTAssertEqual(t.dateCount, 2)
        XCTAssertEqual(t.bands.map(\.name), ["B04", "B08"])
        XCTAssertTrue(t.bands[0].sources[1].path.hasSuffix("t/2021-06-01/B04.tif"))
    }

    func testWindowOrderIsStableAndBlockAligned() throws {
        // Tiles created out of order; a 100×70 grid with 32-pixel windows and blocks.
        for name in ["c", "a", "b"] {
            try fx.raster("\(name)/image.tif", width: 100, height: 70, tile: 32) { _, _, _ in 1 }
        }
        let opts = TileOptions.plain(window: 32)
        let g1 = try WindowGrid(try TileRepository(path: fx.root), options: opts)
        let g2 = try WindowGrid(try TileRepository(path: fx.root), options: opts)
        XCTAssertEqual(g1.windows, g2.windows)
        XCTAssertEqual(g1.plans.map(\.tile.name), ["a", "b", "c"])
        // Columns 0, 32, 64 and the edge window at 68; rows 0, 32 and 38.
        let xs = [0, 32, 64, 68], ys = [0, 32, 38]
        let expected = (0..<3).flatMap { t in ys.flatMap { y in xs.map { x in WindowRef(tile: t, x: x, y: y, size: 32) } } }
        XCTAssertEqual(g1.windows, expected)
        // Stride 16: origins are multiples of 16 (block-aligned to 16), plus the edge.
        let g3 = try WindowGrid(try TileRepository(path: fx.root), options: .plain(window: 32, stride: 16))
        XCTAssertEqual(Array(Set(g3.windows.filter { $0.tile == 0 }.map(\.x))).sorted(), [0, 16, 32, 48, 64, 68])
        // Seeded shuffles: the same for the same seed and epoch, a permutation, and different per epoch.
        XCTAssertEqual(g1.shuffled(seed: 7, epoch: 1), g2.shuffled(seed: 7, epoch: 1))
        XCTAssertEqual(Set(g1.shuffled(seed: 7, epoch: 1)), Set(g1.windows))
        XCTAssertNotEqual(g1.shuffled(seed: 7, epoch: 1), g1.shuffled(seed: 7, epoch: 2))
        XCTAssertEqual(g1.randomWindows(count: 5, seed: 3), g2.randomWindows(count: 5, seed: 3))
        // A fixed expectation pins the shuffle across machines and releases (SplitMix64).
        XCTAssertEqual(g1.shuffled(seed: 7, epoch: 0).prefix(4).map { [$0.tile, $0.x, $0.y] },
                       [[2, 32, 32], [0, 64, 38], [0, 0, 0], [1, 64, 38]])
    }

    func testWindowsCoverOnlyTheLabelledPart() throws {
        // The label covers columns 40–59 of a 100×40 image: only windows meeting them remain.
        try fx.raster("t/image.tif", width: 100, height: 40) { _, _, _ in 1 }
        try fx.raster("t/label.tif", width: 20, height: 40, x0: 500_400) { _, _, _ in 1 }
        let g = try WindowGrid(try TileRepository(path: fx.root),
                               options: TileOptions(windowSize: 20, labels: .hard, classCount: 2))
        XCTAssertEqual(g.plans[0].region, PixelRect(x0: 40, y0: 0, x1: 60, y1: 40))
        XCTAssertEqual(g.windows.map(\.x), [40, 40])
        XCTAssertEqual(g.windows.map(\.y), [0, 20])
    }

    func testTileSmallerThanWindowGivesOnePaddedWindow() throws {
        try fx.raster("t/image.tif", width: 20, height: 10) { _, y, x in Float(y * 20 + x + 1) }
        let g = try WindowGrid(try TileRepository(path: fx.root), options: .plain(window: 32))
        XCTAssertEqual(g.windows, [WindowRef(tile: 0, x: 0, y: 0, size: 32)])
        let r = WindowReader(grid: g)
        let s = r.makeSample()
        let st = try r.read(g.windows[0], into: s)
        XCTAssertEqual(s.validPixels, 200)
        XCTAssertEqual(st.validFraction, 200.0 / 1024)
        XCTAssertEqual(s.image.data[0], 1)
        XCTAssertEqual(s.image.data[31], 0) // off the grid: masked and zeroed
        XCTAssertEqual(s.mask.data[31], 0)
        XCTAssertEqual(s.image.data[9 * 32 + 19], 200)
    }
}
