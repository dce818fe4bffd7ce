@testable import DataIO
import Engine
import Foundation
import XCTest

/// The loader driven by an explicit plan (the trainer's micro-batches).
final class LoaderPlanTests: XCTestCase {
    typealias Snapshot = LoaderTests.Snapshot

    func drain(_ l: Loader) throws -> [Snapshot] {
        var out: [Snapshot] = []
        while let b = try l.next() { out.append(Snapshot(b)); l.recycle(b) }
        l.close()
        return out
    }

    func testAPlanIsDeliveredInOrderWithTheContentOfDirectReads() throws {
        let d = FakeDataset(count: 30, masked: { i, p in (i * 3 + p) % 5 == 0 })
        d.delay = 0.001
        // Uneven sizes, repeats within and across batches, an empty batch, indices out of order.
        let plan = [PlannedBatch(indices: [29, 3, 3, 17], epoch: 0), PlannedBatch(indices: [0], epoch: 4),
                    PlannedBatch(indices: [], epoch: 1), PlannedBatch(indices: [8, 7, 6, 5, 4, 29], epoch: 2),
                    PlannedBatch(indices: [12, 11], epoch: 0)]
        let one = Loader(d, plan: plan, seed: 3, workers: 1)
        XCTAssertEqual(one.batchSize, 6, "capacity is the largest batch")
        XCTAssertEqual(one.batchCount, 5)
        XCTAssertEqual(one.plan, plan)
        XCTAssertEqual(one.order, plan.flatMap(\.indices))
        XCTAssertEqual(one.indices(ofBatch: 3), [8, 7, 6, 5, 4, 29])
        let a = try drain(one)
        let b = try drain(Loader(d, plan: plan, seed: 3, workers: 3, prefetch: 2))
        XCTAssertEqual(a.map(\.indices), plan.map(\.indices))
        XCTAssertEqual(a, b, "1 or 3 workers give the same batches")
        for (k, p) in plan.enumerated() where !p.indices.isEmpty {
            XCTAssertEqual(a[k], Snapshot(try d.batch(p.indices)), "batch \(k)")
        }
        // The worker's normalisation applies to planned batches too.
        let scaled = try drain(Loader(d, plan: plan, seed: 3, workers: 2, normalization: .affine(scale: [2], offset: [1])))
        for (x, y) in zip(a, scaled) {
            XCTAssertEqual(y.image, x.image.enumerated().map { q, v in x.mask[(q / 32) * 16 + q % 16] != 0 ? v * 2 + 1 : 0 })
        }
        XCTAssertEqual(try drain(Loader(d, plan: [], seed: 3)).count, 0)
        XCTAssertEqual(Loader.liveWorkers, 0)
    }

    func testAPlannedErrorSurfacesAtItsBatch() throws {
        let d = FakeDataset(count: 20)
        d.failAt = 9
        let l = Loader(d, plan: [PlannedBatch(indices: [1, 2], epoch: 0), PlannedBatch(indices: [4, 9], epoch: 0),
                                 PlannedBatch(indices: [3], epoch: 0)], seed: 0, workers: 2)
        XCTAssertEqual(try l.next()?.indices, [1, 2])
        XCTAssertThrowsError(try l.next()) { e in XCTAssertTrue("\(e)".contains("fake-9.tif"), "\(e)") }
        l.close()
        XCTAssertEqual(Loader.liveWorkers, 0)
    }

    func testEachBatchsEpochKeysItsAugmentation() throws {
        let s2 = try SynthFixtures.sentinel2.get()
        let grid = try WindowGrid(try TileRepository(path: s2.report.shards[2].path),
                                  options: TileOptions(windowSize: 32, maxNodataFraction: 1))
        let d = try WindowDataset(grid: grid, augment: true)
        let seed: UInt64 = 21
        // Windows whose draw differs between epochs 3 and 8 (most do: 8 symmetries).
        let ids = (0..<d.count).filter { Augmentation.random(seed: seed, epoch: 3, index: $0) != Augmentation.random(seed: seed, epoch: 8, index: $0) }
        XCTAssertGreaterThanOrEqual(ids.count, 3)
        let w = Array(ids.prefix(3))
        let plan = [PlannedBatch(indices: w, epoch: 3), PlannedBatch(indices: w, epoch: 8), PlannedBatch(indices: w, epoch: 3)]
        let got = try drain(Loader(d, plan: plan, seed: seed, workers: 2))
        XCTAssertEqual(got.count, 3)
        XCTAssertEqual(got[0], got[2], "same indices and epoch: same batch")
        XCTAssertNotEqual(got[0].image, got[1].image, "another epoch turns the windows differently")
        // Each row is the window read directly with its batch's draw.
        let r = WindowReader(grid: grid)
        let s = r.makeSample()
        let per = d.shapes.image.count, hw = d.shapes.mask.count, kp = d.shapes.soft!.count
        for (k, p) in plan.enumerated() {
            for (slot, i) in p.indices.enumerated() {
                try r.read(grid.windows[i], into: s, augmentation: .random(seed: seed, epoch: p.epoch, index: i))
                XCTAssertEqual(Array(got[k].image[(slot * per)..<((slot + 1) * per)]), s.image.array, "batch \(k) window \(i)")
                XCTAssertEqual(Array(got[k].mask[(slot * hw)..<((slot + 1) * hw)]), s.mask.array)
                XCTAssertEqual(Array(got[k].soft![(slot * kp)..<((slot + 1) * kp)]), s.proportions!.array)
            }
        }
        XCTAssertEqual(Loader.liveWorkers, 0)
    }
}
