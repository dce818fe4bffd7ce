/// Agreement of a predicted class map with a reference: the confusion matrix and the figures
/// derived from it. Rows are reference classes, columns predicted classes. A figure whose
/// denominator is zero (precision of a class never predicted, ...) is nil, not 0 or 1.
public struct ClassificationMetrics {
    /// One class's figures.
    public struct PerClass {
        public let referencePixels: Int     // row sum
        public let predictedPixels: Int     // column sum
        public let precision: Double?       // C[c][c] / predicted
        public let recall: Double?          // C[c][c] / reference
        public let f1: Double?              // 2PR / (P + R)
        public let iou: Double?             // C[c][c] / (reference + predicted - C[c][c])
    }

    public let classes: Int
    /// K×K counts, row-major: confusion[r * K + p] = pixels of reference class r predicted as p.
    public let confusion: [Int]
    /// Pixels counted (the matrix total).
    public let pixels: Int
    public let overallAccuracy: Double?
    public let kappa: Double?
    public let perClass: [PerClass]
    /// Macro mean of IoU over the classes present in the reference or the prediction.
    public let meanIoU: Double?
    /// Macro mean of F1 over the same classes (a class present in only one map has F1 0).
    public let meanF1: Double?

    /// Counts the pixels where both maps hold a class (>= 0); both must be the same length
    /// and hold values < `classes`.
    public init(prediction: [Int32], reference: [Int32], classes k: Int) {
        precondition(prediction.count == reference.count && k >= 1)
        var c = [Int](repeating: 0, count: k * k)
        prediction.withUnsafeBufferPointer { p in
            reference.withUnsafeBufferPointer { r in
                for i in 0..<p.count where p[i] >= 0 && r[i] >= 0 { c[Int(r[i]) * k + Int(p[i])] += 1 }
            }
        }
        self.init(confusion: c, classes: k)
    }

    public init(confusion c: [Int], classes k: Int) {
        precondition(c.count == k * k)
        classes = k
        confusion = c
        let rows = (0..<k).map { r in (0..<k).reduce(0) { $0 + c[r * k + $1] } }
        let cols = (0..<k).map { p in (0..<k).reduce(0) { $0 + c[$1 * k + p] } }
        let n = rows.reduce(0, +)
        let diag = (0..<k).reduce(0) { $0 + c[$1 * k + $1] }
        pixels = n
        func ratio(_ a: Int, _ b: Int) -> Double? { b > 0 ? Double(a) / Double(b) : nil }
        overallAccuracy = ratio(diag, n)
        // Cohen's kappa: (po - pe) / (1 - pe), pe the agreement expected from the marginals.
        if n > 0 {
            let nn = Double(n) * Double(n)
            let pe = (0..<k).reduce(0.0) { $0 + Double(rows[$1]) * Double(cols[$1]) } / nn
            let po = Double(diag) / Double(n)
            kappa = pe < 1 ? (po - pe) / (1 - pe) : nil
        } else {
            kappa = nil
        }
        perClass = (0..<k).map { i in
            let tp = c[i * k + i]
            let p = ratio(tp, cols[i]), r = ratio(tp, rows[i])
            var f1: Double?
            if let p, let r { f1 = p + r > 0 ? 2 * p * r / (p + r) : 0 }
            else if rows[i] + cols[i] > 0 { f1 = 0 }   // in one map only: no pixel agrees
            return PerClass(referencePixels: rows[i], predictedPixels: cols[i], precision: p, recall: r,
                            f1: f1, iou: ratio(tp, rows[i] + cols[i] - tp))
        }
        // IoU is defined exactly for the classes present in either map; the others (absent
        // from both) say nothing about this map and would only dilute or inflate the mean.
        let present = perClass.filter { $0.referencePixels + $0.predictedPixels > 0 }
        meanIoU = present.isEmpty ? nil : present.reduce(0) { $0 + $1.iou! } / Double(present.count)
        meanF1 = present.isEmpty ? nil : present.reduce(0) { $0 + $1.f1! } / Double(present.count)
    }

    /// Row-normalised matrix (each reference class's row sums to 1; an empty row stays 0).
    public var normalizedConfusion: [Double] {
        var out = [Double](repeating: 0, count: classes * classes)
        for r in 0..<classes {
            let s = (0..<classes).reduce(0) { $0 + confusion[r * classes + $1] }
            guard s > 0 else { continue }
            for p in 0..<classes { out[r * classes + p] = Double(confusion[r * classes + p]) / Double(s) }
        }
        return out
    }
}
