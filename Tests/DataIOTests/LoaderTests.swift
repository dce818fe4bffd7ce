@testable import DataIO
import Engine
import Foundation
import XCTest

final class LoaderTests: XCTestCase {
    struct Snapshot: Equatable {
        var indices: [Int], image: [Float], mask: [Float], soft: [Float]?, hard: [Int32]?
        init(_ b: SampleBatch) {
            indices = b.indices
            let n = b.count
            image = Array(b.image.array.prefix(n * b.shapes.image.count))
            mask = Array(b.mask.array.prefix(n * b.shapes.mask.count))
            soft = b.soft.map { Array($0.array.prefix(n * b.shapes.soft!.count)) }
            hard = b.hard.map { Array(UnsafeBufferPointer(start: $0.data, count: n * b.shapes.hard!.count)) }
        }
    }

    /// Every batch of one epoch; batches are recycled after the snapshot, so a worker reusing
    /// a buffer too early would show up as a difference.
    func drain(_ l: Loader) throws -> [Snapshot] {
        var out: [Snapshot] = []
        while let b = try l.next() { out.append(Snapshot(b)); l.recycle(b) }
        l.close()
        return out
    }

    /// Polls `done` for up to 5 s.
    static func waitFor(_ done: () -> Bool) {
        let deadline = Date().addingTimeInterval(5)
        while !done(), Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
    }

    /// Threads of this process, from /proc (Linux).
    static func osThreads() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    }

    /// The thread count once threads of earlier tests (still ending) are gone: the lowest count
    /// seen until it has not dropped for 0.2 s (at most 3 s).
    static func settledThreads() -> Int {
        var low = osThreads(), lastDrop = Date()
        let end = Date().addingTimeInterval(3)
        while Date().timeIntervalSince(lastDrop) < 0.2, Date() < end {
            Thread.sleep(forTimeInterval: 0.01)
            let n = osThreads()
            if n < low { low = n; lastDrop = Date() }
        }
        return low
    }

    func waitForNoWorkers(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Loader.liveWorkers, 0, "worker threads left running", file: file, line: line)
    }

    func testOrderIsSeededAndBatchesAreIdenticalForOneOrThreeWorkers() throws {
        // Uneven per-sample delays scramble which worker finishes first.
        let d = FakeDataset(count: 23, masked: { i, p in (i + p) % 7 == 0 })
        d.delay = 0.001
        let one = try drain(Loader(d, batchSize: 4, seed: 9, epoch: 2, workers: 1))
        let three = try drain(Loader(d, batchSize: 4, seed: 9, epoch: 2, workers: 3, prefetch: 3))
        XCTAssertEqual(one.count, 6)
        XCTAssertEqual(one, three)
        XCTAssertEqual(one.last?.indices.count, 3, "the last batch is short")
        XCTAssertEqual(one.flatMap(\.indices).sorted(), Array(0..<23), "every sample once per epoch")
        XCTAssertNotEqual(one.flatMap(\.indices), Array(0..<23))
        let nextEpoch = try drain(Loader(d, batchSize: 4, seed: 9, epoch: 3, workers: 2))
        XCTAssertNotEqual(nextEpoch.flatMap(\.indices), one.flatMap(\.indices))
        XCTAssertEqual(Loader.shuffled(23, seed: 9, epoch: 2), one.flatMap(\.indices))
        // Content is the sample's, wherever it lands.
        let b0 = one[0]
        XCTAssertEqual(b0.image[5], b0.mask[5] == 0 ? 0 : Float(1000 * b0.indices[0] + 5))
        XCTAssertEqual(try drain(Loader(d, batchSize: 4, shuffle: false, dropLast: true, workers: 2)).flatMap(\.indices), Array(0..<20))
        waitForNoWorkers()
    }

    func testWorkersStayWithinThePrefetchBoundAndCloseEndsThem() throws {
        let threadsBefore = Self.settledThreads()
        let d = FakeDataset(count: 200)
        let l = Loader(d, batchSize: 5, workers: 3, prefetch: 2)
        XCTAssertEqual(l.workers, 3)
        Self.waitFor { d.samplesRead.value >= 10 }
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(d.samplesRead.value, 10, "2 batches ahead, no more")
        XCTAssertNotNil(try l.next())
        Self.waitFor { d.samplesRead.value >= 15 }
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(d.samplesRead.value, 15)
        XCTAssertEqual(Loader.liveWorkers, 3)
        XCTAssertGreaterThanOrEqual(Self.osThreads(), threadsBefore + 3)
        l.close()
        waitForNoWorkers()
        l.close()   // idempotent
        // The OS threads end too (shortly after their last instruction).
        let deadline = Date().addingTimeInterval(5)
        while Self.osThreads() > threadsBefore, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertLessThanOrEqual(Self.osThreads(), threadsBefore)

        // Dropping a loader mid-epoch (slow reads in flight) also ends its threads.
        let slow = FakeDataset(count: 100)
        slow.delay = 0.01
        do {
            let l2 = Loader(slow, batchSize: 2, workers: 2)
            _ = try l2.next()
        }
        waitForNoWorkers()
        // An HDF5-like dataset gets one reader thread whatever is asked.
        let single = FakeDataset(count: 10, maxReaders: 1)
        let l3 = Loader(single, batchSize: 2, workers: 4)
        XCTAssertEqual(l3.workers, 1)
        XCTAssertEqual(try drain(l3).count, 5)
        XCTAssertEqual(single.readersMade.value, 1)
    }

    func testAWorkerErrorSurfacesInTheConsumerNamingTheFile() throws {
        let d = FakeDataset(count: 40)
        d.failAt = 17
        let l = Loader(d, batchSize: 4, shuffle: false, workers: 3)
        for _ in 0..<4 { XCTAssertNotNil(try l.next()) }
        XCTAssertThrowsError(try l.next()) { e in XCTAssertTrue("\(e)".contains("fake-17.tif"), "\(e)") }
        XCTAssertThrowsError(try l.next(), "the loader stays failed")
        l.close()
        waitForNoWorkers()
    }

    func testSo2SatThroughTheLoaderMatchesDirectReads() throws {
        let path = try SynthFixtures.so2sat.get().report.shards[1].path
        let d = try So2SatDataset(path: path, modality: .both)
        let l = Loader(d, batchSize: 32, seed: 4, workers: 3)
        XCTAssertEqual(l.workers, 1)
        let batches = try drain(l)
        XCTAssertEqual(batches.count, 10)
        for b in [0, 9] {
            XCTAssertEqual(batches[b], Snapshot(try d.batch(l.indices(ofBatch: b))))
        }
        waitForNoWorkers()
    }

    func testTileWindowsFromOneOrThreeWorkersAreIdentical() throws {
        let s2 = try SynthFixtures.sentinel2.get()
        let repo = try TileRepository(path: s2.report.shards[0].path)
        let grid = try WindowGrid(repo, options: TileOptions(windowSize: 32, maxNodataFraction: 1))
        let d = try WindowDataset(grid: grid)
        XCTAssertGreaterThan(d.count, 8)
        XCTAssertEqual(d.shapes.image.dims.first, 10)
        let one = try drain(Loader(d, batchSize: 3, seed: 1, workers: 1))
        let three = try drain(Loader(d, batchSize: 3, seed: 1, workers: 3))
        XCTAssertEqual(one, three)
        // And equal to a plain WindowReader read.
        let r = WindowReader(grid: grid)
        let s = r.makeSample()
        let i = one[0].indices[1]
        try r.read(grid.windows[i], into: s)
        let per = d.shapes.image.count
        XCTAssertEqual(Array(one[0].image[per..<(2 * per)]), s.image.array)
        XCTAssertEqual(Array(one[0].soft![(d.shapes.soft!.count)..<(2 * d.shapes.soft!.count)]), s.proportions!.array)
        waitForNoWorkers()
    }

    func testAugmentedWindowsDependOnSeedEpochAndIndexOnly() throws {
        let s2 = try SynthFixtures.sentinel2.get()
        let grid = try WindowGrid(try TileRepository(path: s2.report.shards[1].path), options: TileOptions(windowSize: 32, maxNodataFraction: 1))
        let d = try WindowDataset(grid: grid, augment: true)
        let one = try drain(Loader(d, batchSize: 4, seed: 7, epoch: 5, workers: 1))
        let three = try drain(Loader(d, batchSize: 4, seed: 7, epoch: 5, workers: 3))
        XCTAssertEqual(one, three)
        let r = WindowReader(grid: grid)
        let s = r.makeSample()
        var turned = 0
        for slot in 0..<4 {
            let i = one[1].indices[slot]
            let aug = Augmentation.random(seed: 7, epoch: 5, index: i)
            if !aug.isIdentity { turned += 1 }
            try r.read(grid.windows[i], into: s, augmentation: aug)
            let per = d.shapes.image.count
            XCTAssertEqual(Array(one[1].image[(slot * per)..<((slot + 1) * per)]), s.image.array, "window \(i) \(aug)")
            XCTAssertEqual(Array(one[1].mask[(slot * 1024)..<((slot + 1) * 1024)]), s.mask.array)
        }
        XCTAssertGreaterThan(turned, 0)
        // Without augment, the same windows come back as they are.
        let plain = try drain(Loader(try WindowDataset(grid: grid), batchSize: 4, seed: 7, epoch: 5, workers: 2))
        XCTAssertEqual(plain.map(\.indices), one.map(\.indices))
        XCTAssertNotEqual(plain.map(\.image), one.map(\.image))
        waitForNoWorkers()
    }

    func testTheWorkersNormalise() throws {
        let d = FakeDataset(count: 6, masked: { i, p in p == 3 })
        let raw = try drain(Loader(d, batchSize: 3, seed: 2, workers: 2))
        let scaled = try drain(Loader(d, batchSize: 3, seed: 2, workers: 2, normalization: .affine(scale: [2], offset: [1])))
        for (a, b) in zip(raw, scaled) {
            // 2 channels × 16 pixels per sample; pixel 3 masked (stays 0).
            let expected = a.image.enumerated().map { q, x in a.mask[(q / 32) * 16 + q % 16] != 0 ? x * 2 + 1 : 0 }
            XCTAssertEqual(b.image, expected)
            XCTAssertEqual(b.image[3], 0)
        }
        waitForNoWorkers()
    }
}
