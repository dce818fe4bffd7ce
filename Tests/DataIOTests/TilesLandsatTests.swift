import DataIO
import Foundation
import XCTest

/// The real Landsat 7 ETM+ scene Debian's r-cran-stars ships (L7_ETMs.tif: 6 bands, 349×352,
/// 28.5 m, UTM 25S, Byte, pixel-interleaved 349×3 strips).
final class TilesLandsatTests: XCTestCase {
    var fx: TileFixture!
    var stars: String!

    override func setUpWithError() throws {
        let (dir, reason) = TileFixture.landsatDir()
        guard let dir else {
            print("TilesLandsatTests skipped: \(reason)")
            throw XCTSkip(reason)
        }
        stars = dir
        fx = try TileFixture("landsat")
    }

    override func tearDown() { fx?.remove() }

    /// The scene as a tile, with a label derived from it: 0 water (NIR < 30), 1 vegetation
    /// (NDVI > 0.2), 2 other; 255 NODATA over the scene's saturated pixels.
    func makeTile() throws -> (image: String, classes: [UInt8], w: Int, h: Int) {
        let image = try fx.dir("olinda") + "/image.tif"
        try FileManager.default.copyItem(atPath: stars + "/L7_ETMs.tif", toPath: image)
        let scene = try TileFixture.readAll(image)
        let (w, h) = (scene.w, scene.h)
        XCTAssertEqual([w, h, scene.c], [349, 352, 6])
        let n = w * h
        var classes = [UInt8](repeating: 0, count: n)
        for p in 0..<n {
            let red = scene.values[2 * n + p], nir = scene.values[3 * n + p]
            if red == 255 || nir == 255 { classes[p] = 255; continue }
            let ndvi = (nir - red) / max(nir + red, 1)
            classes[p] = nir < 30 ? 0 : (ndvi > 0.2 ? 1 : 2)
        }
        let r = try Raster(image)
        try GeoTIFF.write(fx.root + "/olinda/label.tif", width: w, height: h, bands: 1, data: classes,
                          geoTransform: r.geoTransform, projection: r.projectionWKT, noData: 255, tileSize: 64)
        return (image, classes, w, h)
    }

    func testRealSceneWindowsMatchGdalAndLabelsLineUp() throws {
        let t = try makeTile()
        let repo = try TileRepository(path: fx.root)
        let tile = repo.tiles[0]
        XCTAssertEqual(tile.epsg, 31985) // SIRGAS 2000 / UTM zone 25S
        XCTAssertEqual(tile.grid.resolution, 28.5, accuracy: 1e-6)
        XCTAssertEqual(tile.bands.count, 6)
        XCTAssertEqual([tile.blockWidth, tile.blockHeight], [349, 3])

        let g = try WindowGrid(repo, options: TileOptions(windowSize: 128, labels: .hard, classCount: 3, maxNodataFraction: 1))
        XCTAssertEqual(g.windows.map { [$0.x, $0.y] }, [[0, 0], [128, 0], [221, 0], [0, 128], [128, 128], [221, 128],
                                                         [0, 224], [128, 224], [221, 224]])
        let r = WindowReader(grid: g)
        let s = r.makeSample()
        for i in [0, 4, 8] {
            let win = g.windows[i]
            try r.read(win, into: s)
            let out = fx.root + "/srcwin.tif"
            try TileFixture.gdal("gdal_translate", ["-srcwin", "\(win.x)", "\(win.y)", "128", "128", "-ot", "Float32", t.image, out])
            let ref = try TileFixture.readAll(out)
            let n = 128 * 128
            for p in 0..<n {
                let (y, x) = (win.y + p / 128, win.x + p % 128)
                let cls = t.classes[y * t.w + x]
                XCTAssertEqual(s.mask.data[p], cls == 255 ? 0 : 1)
                XCTAssertEqual(s.hardLabels![p], cls == 255 ? -1 : Int32(cls))
                for c in 0..<6 where cls != 255 { XCTAssertEqual(s.image.data[c * n + p], ref.values[c * n + p]) }
            }
        }
    }

    func testRealSceneUnderACoarserWarpedLabel() throws {
        // The label warped by GDAL to 57 m (2×, mode): proportions sum to 1, and the hard label
        // of each 28.5 m pixel is the 57 m label pixel it lies in.
        let t = try makeTile()
        let native = fx.root + "/olinda/label.tif", coarse = fx.root + "/label57.tif"
        try TileFixture.gdal("gdalwarp", ["-tr", "57", "57", "-r", "mode", native, coarse])
        try FileManager.default.removeItem(atPath: native)
        try FileManager.default.copyItem(atPath: coarse, toPath: native)
        let lab = try TileFixture.readAll(native)
        let lgt = try XCTUnwrap(try Raster(native).geoTransform)
        let igt = try XCTUnwrap(try Raster(t.image).geoTransform)

        let repo = try TileRepository(path: fx.root)
        for mode in [TileOptions.LabelMode.proportions, .hard] {
            let g = try WindowGrid(repo, options: TileOptions(windowSize: 64, labels: mode, classCount: 3, maxNodataFraction: 1))
            let r = WindowReader(grid: g)
            let s = r.makeSample()
            let win = g.windows[g.windows.count / 2]
            try r.read(win, into: s)
            let n = 64 * 64
            for p in 0..<n where s.mask.data[p] == 1 {
                // The pixel centre's label pixel in the 57 m raster.
                let gx = igt[0] + (Double(win.x + p % 64) + 0.5) * igt[1], gy = igt[3] + (Double(win.y + p / 64) + 0.5) * igt[5]
                let (lx, ly) = (Int((gx - lgt[0]) / lgt[1]), Int((gy - lgt[3]) / lgt[5]))
                let want = lab.values[ly * lab.w + lx]
                if mode == .hard {
                    XCTAssertEqual(Float(s.hardLabels![p]), want, "pixel \(p)")
                } else {
                    let props = (0..<3).map { s.proportions!.data[$0 * n + p] }
                    XCTAssertEqual(props.reduce(0, +), 1, accuracy: 1e-5)
                    XCTAssertEqual(props[Int(want)], 1, accuracy: 1e-5, "pixel \(p)")
                }
            }
            XCTAssertGreaterThan(s.validPixels, n / 2)
        }
    }

    func testPuertoRicoLandCoverDoesNotOverlapOlinda() throws {
        // lc.tif (real NLCD-style land cover of Puerto Rico, Albers, 3 km) under the Olinda scene.
        _ = try makeTile()
        let label = fx.root + "/olinda/label.tif"
        try FileManager.default.removeItem(atPath: label)
        try FileManager.default.copyItem(atPath: stars + "/lc.tif", toPath: label)
        XCTAssertThrowsError(try TileRepository(path: fx.root)) { e in
            let d = e as? DataError
            XCTAssertEqual(d?.path, label)
            XCTAssertTrue("\(e)".contains("does not overlap"), "\(e)")
        }
    }
}
