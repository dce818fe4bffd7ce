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

    /// `base`: the first output row the band holds (a rank's first row when a scene is split).
    init(channels: Int, rows: Int, width: Int, softmax: Bool, averages: Bool, base: Int = 0) {
        (self.channels, self.rows, self.width, self.softmax, self.base) = (channels, rows, width, softmax, base)
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
        let n = w * w
        for wr in r {
            let row = origin.y + wr - base
            precondition(row >= 0 && row < rows, "window row \(origin.y + wr) outside the strip \(base)..<\(base + rows)")
            for wc in c where mask[wr * w + wc] != 0 {
                accumulate(scores + wr * w + wc, stride: n, at: row * width + origin.x + wc)
            }
        }
    }

    /// Adds one pixel's outputs (C values `stride` apart at `scores`) at output row `y`, column `x`.
    func add(pixel scores: UnsafePointer<Float>, stride: Int = 1, y: Int, x: Int) {
        precondition(y >= base && y < base + rows, "row \(y) outside the strip \(base)..<\(base + rows)")
        accumulate(scores, stride: stride, at: (y - base) * width + x)
    }

    /// The one place a pixel's outputs are summed, so window and pixel adds give the same bits.
    @inline(__always)
    private func accumulate(_ s: UnsafePointer<Float>, stride n: Int, at q: Int) {
        let k = channels, plane = rows * width
        if softmax {
            var top = -Float.infinity
            for j in 0..<k { top = max(top, s[j * n]) }
            var total: Float = 0
            for j in 0..<k { let e = expf(s[j * n] - top); scratch[j] = e; total += e }
            for j in 0..<k { sums[j * plane + q] += scratch[j] / total }
        } else {
            for j in 0..<k { sums[j * plane + q] += s[j * n] }
        }
        hits[q] += 1
    }

    /// Where finished rows go: output rows `rows`, classes (rows × width; classifiers) and
    /// averages (C × rows × width; when kept), valid until the sink returns.
    typealias Sink = (_ rows: Range<Int>, _ classes: UnsafePointer<UInt8>?, _ averages: UnsafePointer<Float>?) throws -> Void

    /// Writes the first `count` rows to the class and average rasters (see `flush(rows:into:)`).
    func flush(rows count: Int, classes out: StripRasterWriter<UInt8>?, averages: StripRasterWriter<Float>?) throws -> Int {
        try flush(rows: count) { r, c, a in
            if let out, let c { try out.write(rows: r.lowerBound..<min(r.upperBound, out.height), c) }
            if let averages, let a { try averages.write(rows: r.lowerBound..<min(r.upperBound, averages.height), a) }
        }
    }

    /// Hands the first `count` rows to `sink` — classes (classifiers) and averages (`averages`: class
    /// probabilities or regression values, NaN where nothing counted) — then moves the band down
    /// by `count` rows. Returns the number of pixels with a value written.
    func flush(rows count: Int, into sink: Sink) throws -> Int {
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
        try sink(base..<(base + count), softmax ? UnsafePointer(classOut) : nil, meanOut.map { UnsafePointer($0) })
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
