/// Boundary F1 of a predicted class map against a reference (as in BF-score): a pixel is on a
/// boundary when one of its 4-neighbours, both counted pixels, holds another class. Precision is
/// the share of predicted boundary pixels within `tolerance` pixels (Chebyshev distance) of a
/// reference boundary pixel; recall the converse; F1 their harmonic mean.
public struct BoundaryF1 {
    public let tolerance: Int
    public let predictedBoundaryPixels: Int
    public let referenceBoundaryPixels: Int
    /// nil when the map has no boundary pixel (nothing to score).
    public let precision: Double?
    public let recall: Double?
    public let f1: Double?

    /// `prediction`, `reference`: H×W class maps, -1 where a pixel is not counted (a boundary
    /// against an uncounted pixel is not a boundary: NODATA is not a class).
    public init(prediction: [Int32], reference: [Int32], width: Int, height: Int, tolerance: Int) {
        precondition(prediction.count == width * height && reference.count == width * height && tolerance >= 0)
        var c = Counts(tolerance: tolerance)
        c.add(prediction: prediction, reference: reference, width: width, keep: 0..<height, atTop: true, atBottom: true)
        self.init(c)
    }

    public init(_ c: Counts) {
        tolerance = c.tolerance
        predictedBoundaryPixels = c.predictedEdges
        referenceBoundaryPixels = c.referenceEdges
        precision = c.predictedEdges > 0 ? Double(c.predictedHits) / Double(c.predictedEdges) : nil
        recall = c.referenceEdges > 0 ? Double(c.referenceHits) / Double(c.referenceEdges) : nil
        if let p = precision, let r = recall { f1 = p + r > 0 ? 2 * p * r / (p + r) : 0 } else { f1 = nil }
    }

    /// The four counts behind the figures, summed strip by strip: a scene is scored in strips of
    /// rows, each read with a halo of `tolerance + 1` rows above and below (a boundary needs its
    /// 4-neighbours, a hit looks `tolerance` rows away), so the sums equal the whole-scene ones.
    public struct Counts {
        public let tolerance: Int
        public var predictedEdges = 0, referenceEdges = 0, predictedHits = 0, referenceHits = 0
        public init(tolerance: Int) { self.tolerance = tolerance }

        /// The halo a strip of rows needs on each side.
        public var halo: Int { tolerance + 1 }

        /// Adds the boundary pixels of rows `keep` of an R×W block (the strip with its halo;
        /// `atTop`/`atBottom`: the block's first/last row is the scene's).
        public mutating func add(prediction: [Int32], reference: [Int32], width w: Int, keep: Range<Int>,
                                 atTop: Bool, atBottom: Bool) {
            let h = prediction.count / max(w, 1)
            precondition(keep.lowerBound - (atTop ? 0 : halo) >= 0 && keep.upperBound + (atBottom ? 0 : halo) <= h)
            let pb = BoundaryF1.boundary(prediction, w, h), rb = BoundaryF1.boundary(reference, w, h)
            let pNear = BoundaryF1.dilate(pb, w, h, tolerance), rNear = BoundaryF1.dilate(rb, w, h, tolerance)
            for i in (keep.lowerBound * w)..<(keep.upperBound * w) {
                if pb[i] { predictedEdges += 1; if rNear[i] { predictedHits += 1 } }
                if rb[i] { referenceEdges += 1; if pNear[i] { referenceHits += 1 } }
            }
        }
    }

    /// Pixels (counted, >= 0) with a counted 4-neighbour of another class.
    static func boundary(_ m: [Int32], _ w: Int, _ h: Int) -> [Bool] {
        var out = [Bool](repeating: false, count: m.count)
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x, v = m[i]
                guard v >= 0 else { continue }
                func differs(_ j: Int) -> Bool { m[j] >= 0 && m[j] != v }
                out[i] = (x > 0 && differs(i - 1)) || (x + 1 < w && differs(i + 1))
                    || (y > 0 && differs(i - w)) || (y + 1 < h && differs(i + w))
            }
        }
        return out
    }

    /// True where a set pixel lies within Chebyshev distance t: a (2t+1)² square max filter,
    /// done as a row pass then a column pass with running counts (O(H·W) for any t).
    static func dilate(_ m: [Bool], _ w: Int, _ h: Int, _ t: Int) -> [Bool] {
        guard t > 0 else { return m }
        var rows = [Bool](repeating: false, count: m.count)
        for y in 0..<h {
            var count = 0
            // Window [x - t, x + t]: add x + t, drop x - t - 1.
            for x in 0..<min(t, w) where m[y * w + x] { count += 1 }
            for x in 0..<w {
                if x + t < w, m[y * w + x + t] { count += 1 }
                if x - t - 1 >= 0, m[y * w + x - t - 1] { count -= 1 }
                rows[y * w + x] = count > 0
            }
        }
        var out = [Bool](repeating: false, count: m.count)
        for x in 0..<w {
            var count = 0
            for y in 0..<min(t, h) where rows[y * w + x] { count += 1 }
            for y in 0..<h {
                if y + t < h, rows[(y + t) * w + x] { count += 1 }
                if y - t - 1 >= 0, rows[(y - t - 1) * w + x] { count -= 1 }
                out[y * w + x] = count > 0
            }
        }
        return out
    }
}
