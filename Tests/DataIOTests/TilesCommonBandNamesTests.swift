import DataIO
import Foundation
import XCTest

/// Bands asked for by common name (`red`, `nir`, `swir1`) read the sensor's own band: B04/B08/B11
/// on Sentinel-2, SR_B4/SR_B5/SR_B6 on a Landsat 8 Collection 2 scene, B3/B4/B5 on Landsat 5;
/// the grid keeps the common names (a weights file records them).
final class TilesCommonBandNamesTests: XCTestCase {
    var fx: TileFixture!
    override func setUpWithError() throws { fx = try TileFixture("common") }
    override func tearDown() { fx.remove() }

    /// A tile whose band `files[i]` holds the constant i + 1, and shard.json naming `sensor`.
    func tile(_ files: [String], sensor: String?) throws {
        for (i, f) in files.enumerated() { try fx.raster("t/\(f).tif", width: 16, height: 16) { _, _, _ in Float(i + 1) } }
        try fx.manifest(sensor.map { "{\"sensor\": \"\($0)\"}" } ?? "{}")
    }

    /// The constant each chosen band holds, in the order asked for.
    func read(_ names: [String]) throws -> (names: [String], values: [Float]) {
        let g = try WindowGrid(try TileRepository(path: fx.root),
                               options: TileOptions(bands: names.map { .name($0) }, windowSize: 16, labels: .none, maxNodataFraction: 1))
        let r = WindowReader(grid: g)
        defer { r.close() }
        let s = r.makeSample()
        try r.read(g.windows[0], into: s)
        return (g.bandNames, (0..<names.count).map { s.image.data[$0 * 256] })
    }

    func testSentinel2() throws {
        try tile(["B02", "B03", "B04", "B08", "B11", "B12"], sensor: "Sentinel-2B")
        let r = try read(["red", "nir", "swir1", "blue"])
        XCTAssertEqual(r.names, ["red", "nir", "swir1", "blue"])
        XCTAssertEqual(r.values, [3, 4, 5, 1])
    }

    func testLandsat8CollectionTwoFileNames() throws {
        try tile(["SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7"], sensor: "LC08")
        XCTAssertEqual(try read(["red", "nir", "swir1", "swir2"]).values, [3, 4, 5, 6])
    }

    func testLandsat5NumbersItsBandsOneLower() throws {
        try tile(["B1", "B2", "B3", "B4", "B5", "B7"], sensor: "landsat5")
        XCTAssertEqual(try read(["blue", "red", "nir", "swir1", "swir2"]).values, [1, 3, 4, 5, 6])
    }

    func testUnknownSensorIsRefusedNamingShardJSON() throws {
        try tile(["B02", "B04"], sensor: "landsat")
        XCTAssertThrowsError(try read(["red"])) { e in
            let d = e as? DataError
            XCTAssertEqual(d?.path, fx.root + "/shard.json", "\(e)")
            XCTAssertTrue("\(e)".contains("'landsat'") && "\(e)".contains("landsat8"), "\(e)")
        }
        // A band really named "red" needs no sensor.
        try fx.raster("t/red.tif", width: 16, height: 16) { _, _, _ in 9 }
        XCTAssertEqual(try read(["red"]).values, [9])
    }

    func testSensorFamilies() {
        XCTAssertEqual(CommonBandNames.family(of: "sentinel2"), .sentinel2)
        XCTAssertEqual(CommonBandNames.family(of: "Landsat 9"), .landsatOLI)
        XCTAssertEqual(CommonBandNames.family(of: "LE07"), .landsatTM)
        XCTAssertNil(CommonBandNames.family(of: "landsat"))
        XCTAssertNil(CommonBandNames.family(of: "modis"))
    }
}
