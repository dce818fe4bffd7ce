@testable import DataIO
import Engine
import Foundation
import XCTest

/// Regression targets (target.tif, DeepVel-style: two velocity bands on the image grid) carried
/// by `WindowDataset` into the loader's batches.
final class WindowTargetTests: XCTestCase {
    var fx: TileFixture!
    override func setUpWithError() throws { fx = try TileFixture("target") }
    override func tearDown() { fx.remove() }

    static let noData: Float = -9999

    /// 32×32 px at 10 m: a 2-band image (NODATA at (4, 20) in band 2), a 2-band target
    /// (NODATA at (3, 7) in band 1 and (20, 9) in both bands), a hard label (NODATA 255 at
    /// (25, 25)). Returns the target's path.
    @discardableResult
    func writeTile() throws -> String {
        try fx.raster("t/image.tif", width: 32, height: 32, bands: 2, noData: -1) { b, y, x in
            b == 1 && y == 4 && x == 20 ? -1 : Float(b * 1000 + y * 32 + x)
        }
        try fx.raster("t/label.tif", width: 32, height: 32, noData: 255) { _, y, x in y == 25 && x == 25 ? 255 : Float((x + y) % 2) }
        return try fx.raster("t/target.tif", width: 32, height: 32, bands: 2, noData: Double(Self.noData), tile: 16) { b, y, x in
            if (b == 0 && y == 3 && x == 7) || (y == 20 && x == 9) { return Self.noData }
            // vx, vy in m/s: smooth fields, not integers.
            return b == 0 ? Float(y) * 0.25 - Float(x) * 0.125 : Float(x * y) / 64 + 0.3
        }
    }

    func snapshot(_ t: HostTensor?, row: Int, per: Int) -> [Float] { Array(t!.array[(row * per)..<((row + 1) * per)]) }

    func testTargetWindowsEqualGdalTranslateSrcwinAndNodataMasks() throws {
        let target = try writeTile()
        let grid = try WindowGrid(try TileRepository(path: fx.root),
                                  options: TileOptions(windowSize: 16, labels: .hard, classCount: 2, readTarget: true, maxNodataFraction: 1))
        let d = try WindowDataset(grid: grid)
        XCTAssertEqual(d.shapes.target?.dims, [2, 16, 16])
        XCTAssertEqual(d.count, 4)
        let l = Loader(d, batchSize: 3, shuffle: false, workers: 2)
        var row = 0
        while let b = try l.next() {
            XCTAssertEqual(b.target?.shape.dims, [3, 2, 16, 16])
            for slot in 0..<b.count {
                let w = grid.windows[b.indices[slot]]
                XCTAssertEqual(b.indices[slot], row)
                row += 1
                let out = fx.root + "/srcwin.tif"
                try TileFixture.gdal("gdal_translate", ["-srcwin", "\(w.x)", "\(w.y)", "16", "16", target, out])
                let ref = try TileFixture.readAll(out)
                XCTAssertEqual([ref.c, ref.h, ref.w], [2, 16, 16])
                let got = snapshot(b.target, row: slot, per: 512), mask = snapshot(b.mask, row: slot, per: 256)
                let hard = Array(UnsafeBufferPointer(start: b.hard!.data + slot * 256, count: 256))
                for p in 0..<256 {
                    let (y, x) = (w.y + p / 16, w.x + p % 16)
                    // Masked: target NODATA in any band, image NODATA, label NODATA.
                    let masked = ref.values[p] == Self.noData || ref.values[256 + p] == Self.noData
                        || (y == 4 && x == 20) || (y == 25 && x == 25)
                    XCTAssertEqual(mask[p], masked ? 0 : 1, "(\(y), \(x))")
                    XCTAssertEqual(hard[p], masked ? -1 : Int32((x + y) % 2), "(\(y), \(x))")
                    for r in 0..<2 {
                        XCTAssertEqual(got[r * 256 + p], masked ? 0 : ref.values[r * 256 + p], "band \(r + 1) (\(y), \(x))")
                    }
                }
            }
            l.recycle(b)
        }
        XCTAssertEqual(row, 4)
    }

    func testAugmentedTargetsTurnWithTheImage() throws {
        try writeTile()
        let grid = try WindowGrid(try TileRepository(path: fx.root),
                                  options: TileOptions(windowSize: 16, labels: .none, readTarget: true, maxNodataFraction: 1))
        let d = try WindowDataset(grid: grid, augment: true)
        XCTAssertNil(d.shapes.soft)
        XCTAssertNil(d.shapes.hard)
        let plan = [PlannedBatch(indices: [0, 1, 2, 3], epoch: 6)]
        let l = Loader(d, plan: plan, seed: 2, workers: 1)
        let b = try XCTUnwrap(try l.next())
        let r = WindowReader(grid: grid)
        let s = r.makeSample()
        var turned = 0
        for i in 0..<4 {
            let a = Augmentation.random(seed: 2, epoch: 6, index: i)
            if !a.isIdentity { turned += 1 }
            try r.read(grid.windows[i], into: s, augmentation: a)
            XCTAssertEqual(snapshot(b.target, row: i, per: 512), s.target!.array, "window \(i) \(a)")
            XCTAssertEqual(snapshot(b.mask, row: i, per: 256), s.mask.array)
        }
        XCTAssertGreaterThan(turned, 0)
        l.close()
    }

    func testASkippedWindowIsFullyMasked() throws {
        // The bottom-right window's target is NODATA except one row: over the threshold, so its
        // image is never read; nothing of it may count.
        try fx.raster("t/image.tif", width: 32, height: 32) { _, y, x in Float(y * 32 + x) }
        try fx.raster("t/label.tif", width: 32, height: 32) { _, _, _ in 1 }
        try fx.raster("t/target.tif", width: 32, height: 32, noData: -1) { _, y, x in y >= 16 && x >= 16 && y != 16 ? -1 : 5 }
        let grid = try WindowGrid(try TileRepository(path: fx.root),
                                  options: TileOptions(windowSize: 16, labels: .proportions, classCount: 2, readTarget: true, maxNodataFraction: 0.5))
        let d = try WindowDataset(grid: grid)
        let skipped = try XCTUnwrap(grid.windows.firstIndex { $0.x == 16 && $0.y == 16 })
        XCTAssertTrue(try WindowReader(grid: grid).read(grid.windows[skipped], into: WindowReader(grid: grid).makeSample()).skipped)
        let b = try d.batch([0, skipped])
        XCTAssertEqual(snapshot(b.mask, row: 1, per: 256), [Float](repeating: 0, count: 256))
        XCTAssertEqual(snapshot(b.image, row: 1, per: 256), [Float](repeating: 0, count: 256))
        XCTAssertEqual(snapshot(b.target, row: 1, per: 256), [Float](repeating: 0, count: 256))
        XCTAssertEqual(snapshot(b.soft, row: 1, per: 512), [Float](repeating: 0, count: 512))
        // The other window is whole.
        XCTAssertEqual(snapshot(b.mask, row: 0, per: 256), [Float](repeating: 1, count: 256))
        XCTAssertEqual(snapshot(b.target, row: 0, per: 256), [Float](repeating: 5, count: 256))
    }

    func testOtherDatasetsCarryNoTarget() throws {
        XCTAssertNil(FakeDataset(count: 1).shapes.target)
        let path = try SynthFixtures.so2sat.get().report.shards[0].path
        let so = try So2SatDataset(path: path, modality: .sen2)
        XCTAssertNil(so.shapes.target)
        XCTAssertNil(try so.batch([0]).target)
    }
}
