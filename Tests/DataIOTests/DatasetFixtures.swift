@testable import DataIO
import Engine
import Foundation

/// An in-memory dataset for the Datasets tests: sample i, band b, pixel p holds `value(i, b, p)`;
/// pixels where `masked(i, p)` are masked (0). `failAt` makes reading that sample throw a
/// `DataError` naming "fake-\(i).tif"; `delay` slows each sample down (seconds).
final class FakeDataset: SampleDataset, @unchecked Sendable {
    let count: Int
    let shapes: SampleShapes
    let maxReaders: Int
    let value: @Sendable (Int, Int, Int) -> Float
    let masked: @Sendable (Int, Int) -> Bool
    var failAt: Int?
    var delay: Double = 0
    let readersMade = Counter()
    let samplesRead = Counter()

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func increment() { lock.lock(); n += 1; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    }

    init(count: Int, channels: Int = 2, size: Int = 4, classes: Int = 3, maxReaders: Int = .max,
         value: @escaping @Sendable (Int, Int, Int) -> Float = { i, b, p in Float(1000 * i + 100 * b + p) },
         masked: @escaping @Sendable (Int, Int) -> Bool = { _, _ in false }) {
        self.count = count
        shapes = SampleShapes(image: Shape(channels, size, size), mask: Shape(size, size), soft: Shape(classes), hard: Shape([]), classes: classes)
        self.maxReaders = maxReaders
        self.value = value
        self.masked = masked
    }

    func makeReader() throws -> SampleReader { readersMade.increment(); return Reader(self) }

    final class Reader: SampleReader {
        let d: FakeDataset
        init(_ d: FakeDataset) { self.d = d }
        func read(_ indices: [Int], into batch: SampleBatch) throws {
            let c = d.shapes.channels, hw = d.shapes.mask.count, k = d.shapes.classes
            for (slot, i) in indices.enumerated() {
                if d.delay > 0 { Thread.sleep(forTimeInterval: d.delay) }
                d.samplesRead.increment()
                if i == d.failAt { throw DataError(path: "fake-\(i).tif", object: "band 1", "read failed") }
                let img = batch.imageRow(slot), m = batch.maskRow(slot)
                for p in 0..<hw { m[p] = d.masked(i, p) ? 0 : 1 }
                for b in 0..<c { for p in 0..<hw { img[b * hw + p] = m[p] != 0 ? d.value(i, b, p) : 0 } }
                let s = batch.softRow(slot)!
                s.update(repeating: 0, count: k)
                s[i % k] = 1
                batch.hardRow(slot)!.pointee = Int32(i % k)
            }
            batch.indices = indices
        }
    }
}
