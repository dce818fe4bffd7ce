import Engine
import Foundation

/// A shard in the So2Sat LCZ42 layout: one HDF5 file (or a range of its rows) with `sen1`
/// N×H×W×8 (Sentinel-1), `sen2` N×H×W×10 (Sentinel-2) and `label` N×K (K = 17 LCZ classes), all
/// NHWC. Samples come out NCHW: Sentinel-1 (8 channels), Sentinel-2 (10) or both fused (18:
/// Sentinel-1 first). The label rows are the soft targets as stored (one-hot or soft); their
/// argmax (ties: lower class) is the class index. A NaN pixel is zeroed and masked.
///
/// The file stays open while the dataset lives. HDF5 is not thread-safe: reads take
/// `HDF5File.processLock`, and `maxReaders` is 1 (the `Loader` reads it from one thread).
public final class So2SatDataset: SampleDataset, SampleReader, @unchecked Sendable {
    public enum Modality: String, Sendable, CaseIterable {
        case sen1, sen2, both
        /// The HDF5 datasets read, in channel order, with their channel counts.
        public var parts: [(name: String, channels: Int)] {
            switch self {
            case .sen1: return [("sen1", 8)]
            case .sen2: return [("sen2", 10)]
            case .both: return [("sen1", 8), ("sen2", 10)]
            }
        }
    }

    static var hdf5Lock: NSLock { HDF5File.processLock }

    public let path: String
    public let modality: Modality
    /// Rows of the file this dataset covers; sample i is row `rows.lowerBound + i`.
    public let rows: Range<Int>
    /// Rows in the file.
    public let fileRows: Int
    /// Patch size (H = W).
    public let patch: Int
    public let classes: Int
    public let shapes: SampleShapes
    public var count: Int { rows.count }
    public var maxReaders: Int { 1 }
    /// Rows read at most in one hyperslab; indices up to `maxGap` rows apart share one.
    public var maxChunkRows = 512
    public var maxGap = 8

    private let file: HDF5File
    private var scratch: [Float] = []
    private var labelScratch: [Float] = []

    /// Opens `path` and checks its datasets' shapes. `rows` (nil: all) selects a shard of it.
    public init(path: String, modality: Modality = .both, rows: Range<Int>? = nil) throws {
        self.path = path
        self.modality = modality
        Self.hdf5Lock.lock()
        defer { Self.hdf5Lock.unlock() }
        file = try HDF5File(path)
        let label = try file.shape(of: "label")
        guard label.count == 2, label[1] > 0 else {
            throw DataError(path: path, object: "dataset 'label'", "shape \(label), expected N×K (So2Sat: N×17)")
        }
        let n = label[0]
        var patch = -1
        for (name, c) in modality.parts {
            let s = try file.shape(of: name)
            guard s.count == 4, s[3] == c, s[1] == s[2], s[1] > 0 else {
                throw DataError(path: path, object: "dataset '\(name)'", "shape \(s), expected N×H×W×\(c) with H = W (So2Sat: N×32×32×\(c))")
            }
            guard s[0] == n else {
                throw DataError(path: path, object: "dataset '\(name)'", "has \(s[0]) rows, 'label' has \(n)")
            }
            if patch >= 0, s[1] != patch {
                throw DataError(path: path, object: "dataset '\(name)'", "patches of \(s[1])×\(s[2]), 'sen1' has \(patch)×\(patch)")
            }
            patch = s[1]
        }
        let r = rows ?? 0..<n
        guard r.lowerBound >= 0, r.upperBound <= n else {
            throw DataError(path: path, "rows \(r) outside the file's 0..<\(n)")
        }
        self.rows = r
        fileRows = n
        self.patch = patch
        classes = label[1]
        let c = modality.parts.reduce(0) { $0 + $1.channels }
        shapes = SampleShapes(image: Shape(c, patch, patch), mask: Shape(patch, patch),
                              soft: Shape(classes), hard: Shape([]), classes: classes)
    }

    /// Splits the file's rows into `parts` contiguous shards of (nearly) equal size.
    public static func shards(path: String, modality: Modality = .both, parts: Int) throws -> [So2SatDataset] {
        let all = try So2SatDataset(path: path, modality: modality)
        let n = all.fileRows, p = max(parts, 1)
        return try (0..<p).map { i in try So2SatDataset(path: path, modality: modality, rows: (i * n / p)..<((i + 1) * n / p)) }
    }

    public func makeReader() throws -> SampleReader { self }

    public func read(_ indices: [Int], into batch: SampleBatch) throws {
        precondition(batch.shapes == shapes, "batch shapes \(batch.shapes) for dataset shapes \(shapes)")
        precondition(indices.count <= batch.capacity, "\(indices.count) samples into a batch of \(batch.capacity)")
        for i in indices where i < 0 || i >= count {
            throw DataError(path: path, "sample \(i) outside 0..<\(count) (rows \(rows))")
        }
        guard !indices.isEmpty else { batch.indices = []; return }
        // Rows in file order, each with its place in the batch.
        let order = indices.enumerated().map { (row: rows.lowerBound + $0.element, slot: $0.offset) }.sorted { $0.row < $1.row }
        var runs: [Range<Int>] = []   // ranges of `order`
        var start = 0
        for j in 1...order.count where j == order.count || order[j].row - order[j - 1].row > maxGap
            || order[j].row - order[start].row >= maxChunkRows {
            runs.append(start..<j)
            start = j
        }
        let hw = patch * patch, k = classes
        Self.hdf5Lock.lock()
        defer { Self.hdf5Lock.unlock() }
        for run in runs where !run.isEmpty {
            let fileRange = order[run.lowerBound].row..<(order[run.upperBound - 1].row + 1)
            var c0 = 0
            for (name, c) in modality.parts {
                let per = hw * c
                if scratch.count < fileRange.count * per { scratch = [Float](repeating: 0, count: fileRange.count * per) }
                try scratch.withUnsafeMutableBufferPointer { buf in
                    try file.read(name, rows: fileRange, into: UnsafeMutableBufferPointer(rebasing: buf[0..<(fileRange.count * per)]))
                    for e in order[run] {
                        let src = buf.baseAddress! + (e.row - fileRange.lowerBound) * per
                        let dst = batch.imageRow(e.slot) + c0 * hw
                        // NHWC → CHW.
                        for p in 0..<hw { for ch in 0..<c { dst[ch * hw + p] = src[p * c + ch] } }
                    }
                }
                c0 += c
            }
            if labelScratch.count < fileRange.count * k { labelScratch = [Float](repeating: 0, count: fileRange.count * k) }
            try labelScratch.withUnsafeMutableBufferPointer { buf in
                try file.read("label", rows: fileRange, into: UnsafeMutableBufferPointer(rebasing: buf[0..<(fileRange.count * k)]))
                for e in order[run] {
                    let src = buf.baseAddress! + (e.row - fileRange.lowerBound) * k
                    batch.softRow(e.slot)!.update(from: src, count: k)
                    let cls = argmax(src, k)
                    guard cls >= 0, src[Int(cls)] > 0 else {
                        throw DataError(path: path, object: "dataset 'label'", "row \(e.row) has no class (all zero or NaN)")
                    }
                    batch.hardRow(e.slot)!.pointee = cls
                }
            }
        }
        // Mask: NaN in any channel masks the pixel (and is zeroed).
        let ch = shapes.channels
        for slot in 0..<indices.count {
            let img = batch.imageRow(slot), m = batch.maskRow(slot)
            for p in 0..<hw { m[p] = 1 }
            for q in 0..<ch { for p in 0..<hw where img[q * hw + p].isNaN { m[p] = 0 } }
            for q in 0..<ch { for p in 0..<hw where m[p] == 0 { img[q * hw + p] = 0 } }
        }
        batch.indices = indices
    }
}

extension HDF5File {
    /// Serialises HDF5 calls across threads (HDF5 1.10 serial is not thread-safe). Dataset reads
    /// take it; other HDF5 work that may overlap a loader thread — a checkpoint written while a
    /// `So2SatDataset` is being read — must hold it too.
    public static let processLock = NSLock()
}
