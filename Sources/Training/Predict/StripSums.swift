import DataIO
import Foundation

/// Output sums and hit counts for a band of `rows` output rows starting at `base`
/// (C × rows × width and rows × width): windows add to it, `flush` writes the finished top
/// rows (average, and its arg-max class for classifiers; NODATA where nothing counted) and
/// slides the band down. Classifiers add softmax scores; regression models their raw outputs.
final class StripSums {
    let channels: Int, rows: Int, width: Int
    /// True: channels are class logits (softmax before summing, arg-max written).
    let softmax: Bool
    private(set) var base = 0
    private let sums: UnsafeMutablePointer<Float>
    private let hits: UnsafeMutablePointer<Float>
    private let classOut: UnsafeMutablePointer<UInt8>
    /// Averages of the rows being written (only when probabilities or values are written).
    private let meanOut: UnsafeMutablePointer<Float>?
    private let scratch: UnsafeMutablePointer<Float>

    init(channels: Int, rows: Int, width: Int, softmax: Bool, averages: Bool) {
        (self.channels, self.rows, self.width, self.softmax) = (channels, rows, width, softmax)
        let plane = rows * width
        sums = .allocate(capacity: channels * plane)
        sums.initialize(repeating: 0, count: channels * plane)
        hits = .allocate(capacity: plane)
        hits.initialize(repeating: 0, count: plane)
        classOut = .allocate(capacity: plane)
        meanOut = averages ? .allocate(capacity: channels * plane) : nil
        scratch = .allocate(capacity: channels)
    }

    deinit {
        for p in [sums, hits, scratch] { p.deallocate() }
        meanOut?.deallocate()
        classOut.deallocate()
    }

    /// Adds one window's outputs (C×W×W at `scores`; softmax first for classifiers) over window
    /// pixels `rows` × `cols` whose `mask` is set; the window's origin is `at` in output pixels.
    func add(scores: UnsafePointer<Float>, mask: UnsafePointer<Float>, window w: Int,
             rows r: Range<Int>, cols c: Range<Int>, at origin: (x: Int, y: Int)) {
        let k = channels, n = w * w, plane = rows * width
        for wr in r {
            let row = origin.y + wr - base
            precondition(row >= 0 && row < rows, "window row \(origin.y + wr) outside the strip \(base)..<\(base + rows)")
            for wc in c where mask[wr * w + wc] != 0 {
                let p = wr * w + wc, q = row * width + origin.x + wc
                if softmax {
                    var top = -Float.infinity
                    for j in 0..<k { top = max(top, scores[j * n + p]) }
                    var total: Float = 0
                    for j in 0..<k { let e = expf(scores[j * n + p] - top); scratch[j] = e; total += e }
                    for j in 0..<k { sums[j * plane + q] += scratch[j] / total }
                } else {
                    for j in 0..<k { sums[j * plane + q] += scores[j * n + p] }
                }
                hits[q] += 1
            }
        }
    }

    /// Writes the first `count` rows — classes (classifiers) and averages (`averages`: class
    /// probabilities or regression values, NaN where nothing counted) — then moves the band down
    /// by `count` rows. Returns the number of pixels with a value written.
    func flush(rows count: Int, classes out: StripRasterWriter<UInt8>?, averages: StripRasterWriter<Float>?) throws -> Int {
        guard count > 0 else { return 0 }
        let k = channels, plane = rows * width, m = count * width
        precondition(count <= rows)
        var valued = 0
        for q in 0..<m {
            let h = hits[q]
            guard h > 0 else {
                classOut[q] = 255
                if let meanOut { for j in 0..<k { meanOut[j * m + q] = .nan } }
                continue
            }
            var best = 0, bestScore = -Float.infinity
            for j in 0..<k {
                let s = sums[j * plane + q]
                if s > bestScore { best = j; bestScore = s }
                meanOut?[j * m + q] = s / h
            }
            classOut[q] = UInt8(best)
            valued += 1
        }
        if let out {
            try out.write(rows: base..<min(base + count, out.height), classOut)
        }
        if let averages, let meanOut { try averages.write(rows: base..<min(base + count, averages.height), meanOut) }
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
        return valued
    }
}
