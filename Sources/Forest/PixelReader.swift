import DataIO
import Engine

/// Reads a shard's windows as labelled pixels for the forest: a pixel's features are its
/// normalised band values (C, or C·T for a C×T×H×W time series: band-major, dates within a band);
/// its class is the hard label, else the argmax of the proportions (a scene's label for every
/// pixel of a scene-labelled sample). Masked and unlabelled pixels are skipped.
public struct PixelReader {
    public let dataset: SampleDataset
    public let normalization: Normalization
    public let shapes: SampleShapes
    /// H·W.
    public let pixels: Int
    /// F·P² = values per pixel.
    public let features: Int
    /// P (1: the pixel's own values).
    public let patch: Int
    public static let batchSize = 16

    public init(dataset: SampleDataset, normalization: Normalization, patch: Int = 1) {
        self.dataset = dataset
        self.normalization = normalization
        self.patch = patch
        shapes = dataset.shapes
        pixels = shapes.mask.count
        features = shapes.image.count / shapes.mask.count * patch * patch
    }

    /// What is wrong with these samples for a pixel classifier, or nil.
    public static func problem(_ s: SampleShapes) -> String? {
        if s.classes < 2 || (s.hard == nil && s.soft == nil) {
            return "the random-forest baseline needs class labels (data.labels), but the samples have \(s.summary)"
        }
        if s.image.count % max(s.mask.count, 1) != 0 { return "image \(s.image) does not split into mask \(s.mask) pixels" }
        return nil
    }

    /// Calls `body(window, features, classes)` with each window's valid pixels, in window order
    /// then pixel order: `features` is P×F (row-major), `classes` P. Windows are read in batches.
    public func forEachWindow(_ windows: [Int], _ body: (Int, [Float], [Int32]) throws -> Void) throws {
        guard !windows.isEmpty else { return }
        let reader = try dataset.makeReader()
        defer { dataset.recycle(reader) }
        let batch = SampleBatch(shapes: shapes, capacity: Self.batchSize)
        var x: [Float] = [], y: [Int32] = []
        var start = 0
        while start < windows.count {
            let ids = Array(windows[start..<min(start + Self.batchSize, windows.count)])
            try reader.read(ids, into: batch)
            normalization.apply(to: batch)
            for (i, w) in ids.enumerated() {
                x.removeAll(keepingCapacity: true); y.removeAll(keepingCapacity: true)
                extract(batch, row: i, x: &x, y: &y)
                try body(w, x, y)
            }
            start += ids.count
        }
    }

    /// Appends row `i`'s valid labelled pixels.
    private func extract(_ b: SampleBatch, row i: Int, x: inout [Float], y: inout [Int32]) {
        let hw = pixels, f = features, k = shapes.classes
        let img = b.image.data + i * shapes.image.count
        let mask = b.mask.data + i * hw
        let planes = shapes.image.count / hw, w = shapes.mask.dims.last ?? 1, r = patch / 2
        if patch > 1 {
            // Masked values are 0 in a patch, as Feed leaves them.
            for q in 0..<planes { for p in 0..<hw where mask[p] == 0 { img[q * hw + p] = 0 } }
        }
        let perPixelHard = shapes.hard.map { !$0.dims.isEmpty }
        let perPixelSoft = shapes.soft.map { $0.dims.count > 1 }
        for p in 0..<hw where mask[p] != 0 {
            var c: Int32 = -1
            if let hard = b.hard, let pp = perPixelHard {
                c = pp ? hard.data[i * hw + p] : hard.data[i]
            } else if let soft = b.soft, let pp = perPixelSoft {
                // argmax over k; a pixel with no positive proportion has no class.
                let base = pp ? soft.data + i * k * hw + p : soft.data + i * k
                let stride = pp ? hw : 1
                var best: Float = 0
                for q in 0..<k where base[q * stride] > best { best = base[q * stride]; c = Int32(q) }
            }
            guard c >= 0, Int(c) < k else { continue }
            if patch == 1 {
                for v in 0..<f { x.append(img[v * hw + p]) }
            } else {
                let py = p / w, px = p % w
                for q in 0..<planes {
                    for dy in -r...r {
                        for dx in -r...r {
                            let sy = py + dy, sx = px + dx
                            x.append(sy >= 0 && sy < hw / w && sx >= 0 && sx < w ? img[q * hw + sy * w + sx] : 0)
                        }
                    }
                }
            }
            y.append(c)
        }
    }
}
