import DataIO
import Foundation

/// Softmax score sums and hit counts for a band of `rows` scene rows starting at `base`
/// (K × rows × width and rows × width): windows add to it, `flush` writes the finished top
/// rows (average → arg-max class, or NODATA 255 where nothing counted) and slides the band down.
final class StripSums {
    let classes: Int, rows: Int, width: Int
    private(set) var base = 0
    private let sums: UnsafeMutablePointer<Float>
    private let hits: UnsafeMutablePointer<Float>
    private let classOut: UnsafeMutablePointer<UInt8>
    /// Averaged scores of the rows being written (only when probabilities are written).
    private let probOut: UnsafeMutablePointer<Float>?
    private let softmax: UnsafeMutablePointer<Float>

    init(classes: Int, rows: Int, width: Int, probabilities: Bool) {
        (self.classes, self.rows, self.width) = (classes, rows, width)
        let plane = rows * width
        sums = .allocate(capacity: classes * plane)
        sums.initialize(repeating: 0, count: classes * plane)
        hits = .allocate(capacity: plane)
        hits.initialize(repeating: 0, count: plane)
        classOut = .allocate(capacity: plane)
        probOut = probabilities ? .allocate(capacity: classes * plane) : nil
        softmax = .allocate(capacity: classes)
    }

    deinit {
        for p in [sums, hits, softmax] { p.deallocate() }
        probOut?.deallocate()
        classOut.deallocate()
    }

    /// Adds the softmax of one window's logits (K×W×W at `scores`) over window pixels
    /// `rows` × `cols` whose `mask` is set; the window's origin is `at` in scene pixels.
    func add(scores: UnsafePointer<Float>, mask: UnsafePointer<Float>, window w: Int,
             rows r: Range<Int>, cols c: Range<Int>, at origin: (x: Int, y: Int)) {
        let k = classes, n = w * w, plane = rows * width
        for wr in r {
            let row = origin.y + wr - base
            precondition(row >= 0 && row < rows, "window row \(origin.y + wr) outside the strip \(base)..<\(base + rows)")
            for wc in c where mask[wr * w + wc] != 0 {
                let p = wr * w + wc
                var top = -Float.infinity
                for j in 0..<k { top = max(top, scores[j * n + p]) }
                var total: Float = 0
                for j in 0..<k { let e = expf(scores[j * n + p] - top); softmax[j] = e; total += e }
                let q = row * width + origin.x + wc
                for j in 0..<k { sums[j * plane + q] += softmax[j] / total }
                hits[q] += 1
            }
        }
    }

    /// Writes the first `count` rows (classes, and probabilities when asked), then moves the
    /// band down by `count` rows. Returns the number of classified pixels written.
    func flush(rows count: Int, classes out: StripRasterWriter<UInt8>, probabilities: StripRasterWriter<Float>?) throws -> Int {
        guard count > 0 else { return 0 }
        let k = classes, plane = rows * width, m = count * width
        precondition(count <= rows)
        var classified = 0
        for q in 0..<m {
            let h = hits[q]
            guard h > 0 else {
                classOut[q] = 255
                if let probOut { for j in 0..<k { probOut[j * m + q] = .nan } }
                continue
            }
            var best = 0, bestScore = -Float.infinity
            for j in 0..<k {
                let s = sums[j * plane + q]
                if s > bestScore { best = j; bestScore = s }
                probOut?[j * m + q] = s / h
            }
            classOut[q] = UInt8(best)
            classified += 1
        }
        let rowsDone = base..<min(base + count, out.height)
        try out.write(rows: rowsDone, classOut)
        if let probabilities, let probOut { try probabilities.write(rows: rowsDone, probOut) }
        // Slide: rows count..<rows move to the top, the freed bottom rows start at zero.
        let keep = (rows - count) * width
        for j in 0..<k {
            let p = sums + j * plane
            memmove(p, p + m, keep * 4)
            (p + keep).update(repeating: 0, count: m)
        }
        memmove(hits, hits + m, keep * 4)
        (hits + keep).update(repeating: 0, count: m)
        base += count
        return classified
    }
}
