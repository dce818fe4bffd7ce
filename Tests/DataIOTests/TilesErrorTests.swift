import DataIO
import Foundation
import XCTest

/// Bad input gives a `DataError` naming the file and what is wrong: never a crash, never a
/// silently zero-filled window.
final class TilesErrorTests: XCTestCase {
    var fx: TileFixture!
    override func setUpWithError() throws { fx = try TileFixture("errors") }
    override func tearDown() { fx.remove() }

    func readAll(_ opts: TileOptions) throws {
        let g = try WindowGrid(try TileRepository(path: fx.root), options: opts)
        let r = WindowReader(grid: g)
        let s = r.makeSample()
        for w in g.windows { try r.read(w, into: s) }
    }

    func testUnreadableGeoTIFF() throws {
        try fx.dir("t")
        let path = fx.root + "/t/image.tif"
        try Data("this is not a TIFF file at all".utf8).write(to: URL(fileURLWithPath: path))
        assertDataError(file: path, ["cannot open"]) { _ = try TileRepository(path: fx.root) }
    }

    func testTruncatedGeoTIFF() throws {
        // Incompressible values, so the tiles fill the file; cut it in half.
        var rng = SystemRandomNumberGenerator()
        let path = try fx.raster("t/image.tif", width: 128, height: 128, bands: 2, tile: 32) { _, _, _ in Float.random(in: 0..<1, using: &rng) }
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        XCTAssertGreaterThan(size, 100_000)
        XCTAssertEqual(truncate(path, off_t(size / 2)), 0)
        // The header may survive (then the index works and a read fails) or not: either way
        // the error names the file, and no window comes back.
        assertDataError(file: path, []) { try readAll(.plain(window: 32)) }
        do { try readAll(.plain(window: 32)) } catch let e as DataError {
            print("truncated:", e)
            XCTAssertTrue(e.message.contains("read failed") || e.message.contains("cannot open"), "\(e)")
        }
    }

    func testMissingBand() throws {
        try fx.raster("t/B02.tif", width: 16, height: 16) { _, _, _ in 1 }
        try fx.raster("t/B03.tif", width: 16, height: 16) { _, _, _ in 1 }
        let repo = try TileRepository(path: fx.root)
        assertDataError(file: fx.root + "/t/B8A.tif", ["missing band 'B8A'", "B02, B03"]) {
            _ = try WindowGrid(repo, options: TileOptions(bands: [.name("B02"), .name("B8A")], labels: .none))
        }
        assertDataError(file: fx.root + "/t", ["missing band #3"]) {
            _ = try WindowGrid(repo, options: TileOptions(bands: [.index(3)], labels: .none))
        }
        // A band shard.json lists but the tile lacks.
        try fx.manifest(#"{"bands": [{"name": "B02"}, {"name": "B03"}, {"name": "B04"}]}"#)
        assertDataError(file: fx.root + "/t/B04.tif", ["missing band 'B04'", "shard.json"]) { _ = try TileRepository(path: fx.root) }
        // In a multi-band image.tif the error names that file.
        try FileManager.default.removeItem(atPath: fx.root + "/shard.json")
        try FileManager.default.removeItem(atPath: fx.root + "/t")
        try fx.raster("u/image.tif", width: 16, height: 16, bands: 2, names: ["red", "nir"]) { _, _, _ in 1 }
        try fx.raster("u/label.tif", width: 16, height: 16) { _, _, _ in 1 }
        let multi = fx.root + "/u/image.tif"
        assertDataError(file: multi, ["missing band 'swir'", "red, nir"]) {
            _ = try WindowGrid(try TileRepository(path: fx.root), options: TileOptions(bands: [.name("swir")], labels: .none))
        }
    }

    func testMissingLabelWhenLabelsAreAskedFor() throws {
        try fx.raster("t/image.tif", width: 16, height: 16) { _, _, _ in 1 }
        assertDataError(file: fx.root + "/t/label.tif", ["missing"]) {
            _ = try WindowGrid(try TileRepository(path: fx.root), options: TileOptions(labels: .hard, classCount: 2))
        }
    }

    /// A label under another name is refused naming the file and the name expected, not read as
    /// a band or reported as a clash with image.tif.
    func testLabelUnderAnotherNameSaysWhichNameIsExpected() throws {
        try fx.raster("t/image.tif", width: 16, height: 16) { _, _, _ in 1 }
        let labels = try fx.raster("t/labels.tif", width: 16, height: 16) { _, _, _ in 1 }
        assertDataError(file: labels, ["looks like a label", "label.tif"]) { _ = try TileRepository(path: fx.root) }
    }

    func testImageAndLabelDoNotOverlap() throws {
        try fx.raster("t/image.tif", width: 16, height: 16) { _, _, _ in 1 }
        let label = try fx.raster("t/label.tif", width: 16, height: 16, x0: 510_000) { _, _, _ in 1 }
        assertDataError(file: label, ["does not overlap"]) { _ = try TileRepository(path: fx.root) }
    }

    func testUnknownCRS() throws {
        // An image without any CRS.
        let image = try fx.raster("t/image.tif", width: 16, height: 16, crs: nil) { _, _, _ in 1 }
        assertDataError(file: image, ["coordinate reference system"]) { _ = try TileRepository(path: fx.root) }
        // A label in an engineering CRS that no transformation reaches.
        try fx.raster("t/image.tif", width: 16, height: 16) { _, _, _ in 1 }
        let src = try fx.raster("label-src.tif", width: 16, height: 16) { _, _, _ in 1 }
        try TileFixture.gdal("gdal_translate", ["-a_srs", #"LOCAL_CS["arbitrary",UNIT["metre",1]]"#, src, fx.root + "/t/label.tif"])
        assertDataError(file: fx.root + "/t/label.tif", ["cannot transform"]) { _ = try TileRepository(path: fx.root) }
    }

    func testImagesThatDisagree() throws {
        // Band files on different footprints or CRSs.
        try fx.raster("t/B02.tif", width: 16, height: 16) { _, _, _ in 1 }
        let moved = try fx.raster("t/B03.tif", width: 16, height: 16, x0: 500_100) { _, _, _ in 1 }
        assertDataError(file: moved, ["footprint"]) { _ = try TileRepository(path: fx.root) }
        let other = try fx.raster("t/B03.tif", width: 16, height: 16, crs: "EPSG:32634") { _, _, _ in 1 }
        assertDataError(file: other, ["CRS"]) { _ = try TileRepository(path: fx.root) }
        // An empty tile folder; a repository that does not exist.
        try FileManager.default.removeItem(atPath: fx.root + "/t")
        try fx.dir("empty")
        assertDataError(file: fx.root + "/empty", ["no image"]) { _ = try TileRepository(path: fx.root) }
        assertDataError(file: fx.root + "/nope", ["no such"]) { _ = try TileRepository(path: fx.root + "/nope") }
    }

    func testBadShardJson() throws {
        try fx.raster("t/image.tif", width: 16, height: 16) { _, _, _ in 1 }
        try fx.manifest(#"{"classes": [{"value": "water"}]}"#)
        assertDataError(file: fx.root + "/shard.json", ["classes"]) { _ = try TileRepository(path: fx.root) }
    }
}
