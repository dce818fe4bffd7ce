import Engine
import Foundation

/// The windows of a tile repository (`WindowGrid`) as a `SampleDataset`: sample i is
/// `windows[i]` (all the grid's windows in its stable order unless given, e.g. the result of
/// `WindowReader.scan`). Every reader owns its own `WindowReader` — its own GDAL handles — so
/// any number may read at once, one per thread. Labels: per-pixel proportions K×H×W as soft
/// targets (`.proportions`) or class indices H×W (`.hard`); regression targets R×H×W
/// (`readTarget`) and a time series' date mask T×H×W (`maskAnyDate` false) as the batch's
/// `target` and `dateMask`. With `augment`, reads made for an epoch (the `Loader`'s) flip and
/// turn each window by `Augmentation.random(seed:epoch:index:)` (index: the sample's dataset
/// index), all of them alike. A window over the NODATA threshold (not removed by
/// `WindowReader.scan`) comes back wholly masked: its image was never read.
public final class WindowDataset: SampleDataset, @unchecked Sendable {
    public let grid: WindowGrid
    public let windows: [WindowRef]
    public let shapes: SampleShapes
    public var count: Int { windows.count }
    public var maxReaders: Int { Int.max }
    public let augment: Bool

    public init(grid: WindowGrid, windows: [WindowRef]? = nil, augment: Bool = false) throws {
        let l = grid.layout
        self.grid = grid
        self.augment = augment
        self.windows = windows ?? grid.windows
        shapes = SampleShapes(image: l.imageShape, mask: l.maskShape,
                              soft: l.labels == .proportions ? l.labelShape : nil,
                              hard: l.labels == .hard ? l.maskShape : nil, classes: l.classes,
                              target: l.targetShape, dateMask: l.dateMaskShape)
    }

    private let idleLock = NSLock()
    private var idle: [Reader] = []

    /// A reader with its own `WindowReader`: a recycled one (files open, tile state built) when
    /// there is one.
    public func makeReader() throws -> SampleReader {
        idleLock.lock()
        defer { idleLock.unlock() }
        return idle.popLast() ?? Reader(self)
    }

    /// Keeps up to 16 idle readers for reuse (next epoch's workers).
    public func recycle(_ reader: SampleReader) {
        guard let r = reader as? Reader, r.d === self else { return }
        idleLock.lock()
        if idle.count < 16 { idle.append(r) }
        idleLock.unlock()
    }

    final class Reader: SampleReader {
        let d: WindowDataset
        let reader: WindowReader
        init(_ d: WindowDataset) {
            self.d = d
            reader = WindowReader(grid: d.grid)
        }
        deinit { reader.close() }

        func read(_ indices: [Int], into batch: SampleBatch) throws {
            try read(indices, augmentation: { _ in .identity }, into: batch)
        }

        func read(_ indices: [Int], seed: UInt64, epoch: Int, into batch: SampleBatch) throws {
            let on = d.augment
            try read(indices, augmentation: { on ? .random(seed: seed, epoch: epoch, index: $0) : .identity }, into: batch)
        }

        func read(_ indices: [Int], augmentation: (Int) -> Augmentation, into batch: SampleBatch) throws {
            precondition(batch.shapes == d.shapes && indices.count <= batch.capacity)
            let l = d.grid.layout, s = d.shapes
            for (slot, i) in indices.enumerated() {
                guard i >= 0, i < d.count else {
                    throw DataError(path: d.grid.repository.path, "window \(i) outside 0..<\(d.count)")
                }
                let sample = WindowSample(
                    layout: l, image: Tensor(s.image, batch.imageRow(slot)), mask: Tensor(s.mask, batch.maskRow(slot)),
                    proportions: batch.softRow(slot).map { Tensor(s.soft!, $0) },
                    hardLabels: batch.hardRow(slot).map { UnsafeMutableBufferPointer(start: $0, count: s.hard!.count) },
                    target: batch.targetRow(slot).map { Tensor(s.target!, $0) },
                    dateMask: batch.dateMaskRow(slot).map { Tensor(s.dateMask!, $0) })
                let status = try reader.read(d.windows[i], into: sample, augmentation: augmentation(i))
                // A skipped window's image is not read (and its other buffers not finished):
                // nothing of it may count, nor hold stale data.
                if status.skipped {
                    for t in [sample.image, sample.mask, sample.proportions, sample.target, sample.dateMask] { t?.zero() }
                    if let h = sample.hardLabels { h.update(repeating: -1) }
                }
            }
            batch.indices = indices
        }
    }
}
