import Engine

/// Per-sample shapes of a dataset (no batch dimension).
public struct SampleShapes: Sendable, Equatable {
    /// C×H×W (C×T×H×W for a time series): rstrain's NCHW without the N.
    public let image: Shape
    /// H×W: 1 where the pixel counts, 0 where it is masked.
    public let mask: Shape
    /// Soft targets: K (scene classification) or K×H×W (per-pixel proportions); nil: none.
    public let soft: Shape?
    /// Class indices: [] (one per sample: scene classification) or H×W (per pixel); nil: none.
    public let hard: Shape?
    /// K.
    public let classes: Int
    /// Regression targets R×H×W (0 where masked); nil: none.
    public let target: Shape?
    /// T×H×W for a C×T×H×W image whose pixels may lack some dates: 1 where the pixel has the
    /// date, 0 where not (the image is 0 there); nil: a pixel has every date or is masked.
    public let dateMask: Shape?

    public init(image: Shape, mask: Shape, soft: Shape?, hard: Shape?, classes: Int, target: Shape? = nil,
                dateMask: Shape? = nil) {
        precondition(dateMask == nil || (image.rank == 4 && dateMask!.dims == Array(image.dims[1...])),
                     "date mask \(dateMask!) for image \(image)")
        self.image = image
        self.mask = mask
        self.soft = soft
        self.hard = hard
        self.classes = classes
        self.target = target
        self.dateMask = dateMask
    }

    /// C.
    public var channels: Int { image[0] }
}

/// One batch of samples, in rstrain's layout: image N×C×H×W (N×C×T×H×W), mask N×H×W, soft
/// targets N×K (or N×K×H×W), class indices N (or N×H×W, −1 = masked), regression targets
/// N×R×H×W, date mask N×T×H×W. `count` rows are filled (the last batch of an epoch may be
/// short); `indices` are the dataset indices of the rows, in order.
public final class SampleBatch: @unchecked Sendable {
    public let shapes: SampleShapes
    public let capacity: Int
    public let image: HostTensor
    public let mask: HostTensor
    public let soft: HostTensor?
    public let hard: HostLabelTensor?
    public let target: HostTensor?
    public let dateMask: HostTensor?
    public internal(set) var indices: [Int] = []
    public var count: Int { indices.count }

    public init(shapes: SampleShapes, capacity: Int) {
        self.shapes = shapes
        self.capacity = capacity
        image = HostTensor(Shape([capacity] + shapes.image.dims))
        mask = HostTensor(Shape([capacity] + shapes.mask.dims))
        soft = shapes.soft.map { HostTensor(Shape([capacity] + $0.dims)) }
        hard = shapes.hard.map { HostLabelTensor(Shape([capacity] + $0.dims)) }
        target = shapes.target.map { HostTensor(Shape([capacity] + $0.dims)) }
        dateMask = shapes.dateMask.map { HostTensor(Shape([capacity] + $0.dims)) }
    }

    /// Pointers to row `i` of each buffer.
    func imageRow(_ i: Int) -> UnsafeMutablePointer<Float> { image.data + i * shapes.image.count }
    func maskRow(_ i: Int) -> UnsafeMutablePointer<Float> { mask.data + i * shapes.mask.count }
    func softRow(_ i: Int) -> UnsafeMutablePointer<Float>? { soft.map { $0.data + i * shapes.soft!.count } }
    func hardRow(_ i: Int) -> UnsafeMutablePointer<Int32>? { hard.map { $0.data + i * shapes.hard!.count } }
    func targetRow(_ i: Int) -> UnsafeMutablePointer<Float>? { target.map { $0.data + i * shapes.target!.count } }
    func dateMaskRow(_ i: Int) -> UnsafeMutablePointer<Float>? { dateMask.map { $0.data + i * shapes.dateMask!.count } }
    /// Row `i`'s mask for each image value: the date mask (T×H×W, one per value of a band) when
    /// there is one, else the pixel mask; `stride` is its length (the index of value q of a band
    /// is q % stride).
    func valueMask(_ i: Int) -> (mask: UnsafeMutablePointer<Float>, stride: Int) {
        if let d = dateMaskRow(i) { return (d, shapes.dateMask!.count) }
        return (maskRow(i), shapes.mask.count)
    }
}

/// A dataset the `Loader` can read: `count` samples of fixed `shapes`, read through readers
/// made by `makeReader()`. `maxReaders` is how many readers may work at once, each on its own
/// thread (1 for HDF5, which is not thread-safe).
public protocol SampleDataset: AnyObject {
    var count: Int { get }
    var shapes: SampleShapes { get }
    var maxReaders: Int { get }
    /// A reader for one thread (it may keep files open).
    func makeReader() throws -> SampleReader
    /// Takes back a reader no longer used (the `Loader` hands its workers' readers back at the
    /// end of an epoch), so the next `makeReader()` may reuse its open files and per-tile
    /// state. Default: drops it.
    func recycle(_ reader: SampleReader)
}

extension SampleDataset {
    public func recycle(_ reader: SampleReader) {}
}

/// Reads samples into a batch; used from one thread at a time.
public protocol SampleReader: AnyObject {
    /// Fills rows 0..<indices.count of `batch` with samples `indices` (in that order) and sets
    /// `batch.indices`. The content of a row depends only on its dataset index.
    func read(_ indices: [Int], into batch: SampleBatch) throws
    /// The same for epoch `epoch` of a run seeded `seed`: a dataset that augments draws each
    /// sample's augmentation from (seed, epoch, index) alone. Default: no augmentation.
    func read(_ indices: [Int], seed: UInt64, epoch: Int, into batch: SampleBatch) throws
}

extension SampleReader {
    public func read(_ indices: [Int], seed: UInt64, epoch: Int, into batch: SampleBatch) throws {
        try read(indices, into: batch)
    }
}

extension SampleDataset {
    /// Reads `indices` into a new batch on the calling thread.
    public func batch(_ indices: [Int]) throws -> SampleBatch {
        let b = SampleBatch(shapes: shapes, capacity: max(indices.count, 1))
        try makeReader().read(indices, into: b)
        return b
    }
}

/// Index of the largest value (ties: the lowest index); −1 when all are NaN or there are none.
@inline(__always)
func argmax(_ p: UnsafePointer<Float>, _ n: Int) -> Int32 {
    var best: Int32 = -1
    var v = -Float.infinity
    for k in 0..<n where p[k] > v || (best < 0 && p[k] == v) { best = Int32(k); v = p[k] }
    return best
}
