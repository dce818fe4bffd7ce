/// Small helpers over per-sample blocks of channel rows (a sample is rows × p floats).
enum ConvKernels {
    /// dst[r, s·p + i] = src[n0 + s][r, i] for s in 0..<nb: gather samples side by side.
    @inline(__always)
    static func gather(_ src: UnsafePointer<Float>, rows: Int, p: Int, n0: Int, nb: Int, into dst: UnsafeMutablePointer<Float>) {
        let ld = nb * p
        for s in 0..<nb {
            let sp = src + (n0 + s) * rows * p
            for r in 0..<rows { (dst + r * ld + s * p).update(from: sp + r * p, count: p) }
        }
    }

    /// dst[n0 + s][r, i] = src[r, s·p + i] + (bias?[r] ?? 0).
    @inline(__always)
    static func scatter(_ src: UnsafePointer<Float>, rows: Int, p: Int, n0: Int, nb: Int,
                        bias: UnsafePointer<Float>?, into dst: UnsafeMutablePointer<Float>) {
        let ld = nb * p
        for s in 0..<nb {
            let dp = dst + (n0 + s) * rows * p
            for r in 0..<rows {
                let a = src + r * ld + s * p, y = dp + r * p
                let b = bias?[r] ?? 0
                for i in 0..<p { y[i] = a[i] + b }
            }
        }
    }

    /// dst[n0 + s][r, i] += src[r, s·p + i].
    @inline(__always)
    static func scatterAdd(_ src: UnsafePointer<Float>, rows: Int, p: Int, n0: Int, nb: Int, into dst: UnsafeMutablePointer<Float>) {
        let ld = nb * p
        for s in 0..<nb {
            let dp = dst + (n0 + s) * rows * p
            for r in 0..<rows {
                let a = src + r * ld + s * p, y = dp + r * p
                for i in 0..<p { y[i] += a[i] }
            }
        }
    }

    /// Rows r of `count` floats at row stride `ld` set to bias[r] (or 0).
    @inline(__always)
    static func fillRows(_ y: UnsafeMutablePointer<Float>, rows: Int, count: Int, ld: Int, bias: UnsafePointer<Float>?) {
        for r in 0..<rows { (y + r * ld).update(repeating: bias?[r] ?? 0, count: count) }
    }

    /// W[o][c][t] (O × C × T taps) → W'[o][t][c]: the (tap, channel) order of patch-major columns.
    static func reorderTapsLast(_ w: UnsafePointer<Float>, outChannels o: Int, channels c: Int, taps t: Int,
                                into r: UnsafeMutablePointer<Float>) {
        for oc in 0..<o {
            let wo = w + oc * c * t, ro = r + oc * c * t
            for ic in 0..<c { for a in 0..<t { ro[a * c + ic] = wo[ic * t + a] } }
        }
    }

    /// Wf[c][t][o] = W[o][c][T − 1 − t]: the kernel of the convolution that maps dY to dX
    /// (stride 1), in patch-major order over dY's O channels.
    static func reorderFlipped(_ w: UnsafePointer<Float>, outChannels o: Int, channels c: Int, taps t: Int,
                               into r: UnsafeMutablePointer<Float>) {
        for ic in 0..<c {
            let rc = r + ic * t * o
            for a in 0..<t { for oc in 0..<o { rc[a * o + oc] = w[(oc * c + ic) * t + (t - 1 - a)] } }
        }
    }

    /// dW[o][c][t] += D[(t·C + c)·O + o]: a gradient in (tap, channel) × O order added back.
    static func addTapsLastTransposed(_ d: UnsafePointer<Float>, outChannels o: Int, channels c: Int, taps t: Int,
                                      into dw: UnsafeMutablePointer<Float>) {
        for oc in 0..<o {
            let wo = dw + oc * c * t
            for ic in 0..<c { for a in 0..<t { wo[ic * t + a] += d[(a * c + ic) * o + oc] } }
        }
    }

    /// db[r] += Σ over samples and positions of dy[n][r, i].
    static func biasGradient(_ dy: UnsafePointer<Float>, batch: Int, rows: Int, p: Int, into db: UnsafeMutablePointer<Float>) {
        for n in 0..<batch {
            for r in 0..<rows {
                let a = dy + (n * rows + r) * p
                // Eight partial sums: vectorizes, and keeps rounding error low on long rows.
                var acc = SIMD8<Float>()
                var i = 0
                while i + 8 <= p {
                    acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                    i += 8
                }
                var s = acc.sum()
                while i < p { s += a[i]; i += 1 }
                db[r] += s
            }
        }
    }
}
