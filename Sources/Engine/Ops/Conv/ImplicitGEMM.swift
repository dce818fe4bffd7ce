/// Convolution as GEMMs that read the image almost in place ("tap rows"), for unit stride
/// and unit dilation along W — "same" convolutions with few input channels (a U-Net's first
/// layer on 10 bands, 8 → 8 channels in 3D; Winograd takes the rest), and the convolution
/// that gives their input gradient. Shapes (one chunk of L output lines; a line
/// is one (n, od, oh) of the batch, global index (n·oD + od)·oH + oh):
///   Q     L × Wp × T × C    for each output line and each of the T = kd·kh kernel rows (a, b),
///                           the input row (od − pd + a·dd, oh − ph + b·dh) channels-last,
///                           shifted by pw columns, zero outside the image; Wp ≥ oW + kw − 1 is
///                           a multiple of kw
///   W''   O × K             K = kw·T·C in (e, (a, b), c) order: W''[o][(e·T + t)·C + c] = W[o][c][t·kw + e]
///   Yᵀ    L·Wp × O          output rows by padded position i·Wp + w (w ≥ oW: unused)
/// The patch of output (line i, column w) is the K consecutive floats of Q from pixel
/// i·Wp + w: kw pixels of T·C floats. For one residue r = w mod kw, the patches of w = r,
/// r + kw, r + 2kw, … follow each other every K floats — across line ends too, since Wp is a
/// multiple of kw — so they are a plain K-column matrix inside Q (lda = K), and
///   Yᵀ[rows ≡ r] = Q_r · W''ᵀ        (one sgemm per r, rows written every kw rows of Yᵀ)
/// is the whole convolution. Q is T·C floats per pixel where an im2col is kw·T·C per position:
/// building it is kw times less copying, done by transposes straight from the channel-major
/// input.
struct TapRows {
    let channels: Int
    let d, h, w: Int
    let od, oh, ow: Int
    let kd, kh, kw: Int
    let pd, ph, pw: Int
    let dd, dh: Int
    /// Padded row width in pixels.
    let wp: Int

    /// The tap-rows form of `g`, or nil unless every stride is 1 and the W dilation is 1.
    init?(_ g: PatchGeometry) {
        guard g.sd == 1, g.sh == 1, g.sw == 1, g.dw == 1 else { return nil }
        channels = g.channels
        (d, h, w) = (g.d, g.h, g.w)
        (od, oh, ow) = (g.od, g.oh, g.ow)
        (kd, kh, kw) = (g.kd, g.kh, g.kw)
        (pd, ph, pw) = (g.pd, g.ph, g.pw)
        (dd, dh) = (g.dd, g.dh)
        let span = ow + kw - 1
        wp = (span + kw - 1) / kw * kw
    }

    /// Tap rows per pixel (kd·kh).
    var taps: Int { kd * kh }
    /// Floats per Q pixel.
    var pixel: Int { taps * channels }
    /// K: floats per patch.
    var rows: Int { kw * pixel }
    var lines: Int { od * oh }
    var imageCount: Int { channels * d * h * w }
    var positions: Int { od * oh * ow }

    /// Q for global lines first..<first+count of the channel-major images `x` (N×C×D×H×W),
    /// followed by kw zero pixels (the last patches of r > 0 run past the last line).
    func buildQ(_ x: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Float>, first: Int, count: Int) {
        let c = channels, px = pixel, hw = h * w, dhw = d * hw
        let lo = max(0, pw), hi = min(wp, pw + w) // pixels that hold input columns
        var n = first / lines, z = first % lines
        var zd = z / oh, zh = z % oh
        for i in 0..<count {
            let line = q + i * wp * px
            for a in 0..<kd {
                let id = zd - pd + a * dd
                for b in 0..<kh {
                    let t = a * kh + b, ih = zh - ph + b * dh
                    let dst = line + t * c
                    if UInt(bitPattern: id) < UInt(d) && UInt(bitPattern: ih) < UInt(h) && lo < hi {
                        for p in 0..<lo { Runs.zero(dst + p * px, c) }
                        for p in hi..<wp { Runs.zero(dst + p * px, c) }
                        let src = x + n * c * dhw + id * hw + ih * w + (lo - pw)
                        Transpose.run(src, rows: c, cols: hi - lo, lds: dhw, dst + lo * px, ldd: px, add: false, bias: nil)
                    } else {
                        for p in 0..<wp { Runs.zero(dst + p * px, c) }
                    }
                }
            }
            zh += 1
            if zh == oh { zh = 0; zd += 1; if zd == od { zd = 0; n += 1 } }
        }
        Runs.zero(q + count * wp * px, kw * px)
    }

    /// Yᵀ (count·Wp rows of `o` floats, row stride ldc) = the convolution of the chunk whose Q is
    /// given, with reordered weights `wr` (O × K).
    func multiply(_ q: UnsafePointer<Float>, count: Int, weights wr: UnsafePointer<Float>, outChannels o: Int,
                  into y: UnsafeMutablePointer<Float>) {
        let m = count * (wp / kw), k = rows
        for r in 0..<kw {
            BLAS.sgemm(transB: true, m: m, n: o, k: k, a: q + r * pixel, lda: k, b: wr, ldb: k,
                       beta: 0, c: y + r * o, ldc: kw * o)
        }
    }

    /// dW''ᵀ (K × O) += Qᵀ·dYᵀ for a chunk: `dy` holds the chunk's output gradient by padded
    /// position (count·Wp rows of O, zero at w ≥ oW).
    func multiplyGradient(_ q: UnsafePointer<Float>, count: Int, dy: UnsafePointer<Float>, outChannels o: Int,
                          into dwt: UnsafeMutablePointer<Float>) {
        let m = count * (wp / kw), k = rows
        for r in 0..<kw {
            BLAS.sgemm(transA: true, m: k, n: o, k: m, a: q + r * pixel, lda: k, b: dy + r * o, ldb: kw * o,
                       beta: 1, c: dwt, ldc: o)
        }
    }

    /// Calls body(line index in chunk, image n, position of the line's first output in its
    /// image) for global lines first..<first+count.
    @inline(__always)
    func forEachLine(first: Int, count: Int, _ body: (Int, Int, Int) -> Void) {
        var n = first / lines, z = first % lines
        for i in 0..<count {
            body(i, n, z * ow)
            z += 1
            if z == lines { z = 0; n += 1 }
        }
    }

    /// Output rows of a chunk (Yᵀ by padded position, row stride `ld`) → channel-major images
    /// y (N × O × P): written with the bias, or added.
    func store(_ yt: UnsafePointer<Float>, ld: Int, first: Int, count: Int, outChannels o: Int,
               into y: UnsafeMutablePointer<Float>, add: Bool, bias: UnsafePointer<Float>?) {
        let p = positions
        forEachLine(first: first, count: count) { i, n, at in
            Transpose.run(yt + i * wp * ld, rows: ow, cols: o, lds: ld, y + n * o * p + at, ldd: p, add: add, bias: bias)
        }
    }

    /// A chunk's output gradient by padded position (count·Wp rows of O, zero at w ≥ oW) from
    /// channel-major dY (N × O × P).
    func gatherGradient(_ dy: UnsafePointer<Float>, outChannels o: Int, first: Int, count: Int,
                        into t: UnsafeMutablePointer<Float>) {
        let p = positions
        forEachLine(first: first, count: count) { i, n, at in
            let row = t + i * wp * o
            Transpose.run(dy + n * o * p + at, rows: o, cols: ow, lds: p, row, ldd: o, add: false, bias: nil)
            Runs.zero(row + ow * o, (wp - ow) * o)
        }
    }

    /// The tap-rows form of the convolution that maps this one's output gradient to its input
    /// gradient: the same kernel flipped, over `outChannels` channels, padding d·(k − 1) − p.
    func flipped(outChannels o: Int) -> TapRows {
        TapRows(channels: o, d: od, h: oh, w: ow, od: d, oh: h, ow: w, kd: kd, kh: kh, kw: kw,
                pd: dd * (kd - 1) - pd, ph: dh * (kh - 1) - ph, pw: kw - 1 - pw, dd: dd, dh: dh)
    }

    private init(channels: Int, d: Int, h: Int, w: Int, od: Int, oh: Int, ow: Int, kd: Int, kh: Int, kw: Int,
                 pd: Int, ph: Int, pw: Int, dd: Int, dh: Int) {
        self.channels = channels
        (self.d, self.h, self.w) = (d, h, w)
        (self.od, self.oh, self.ow) = (od, oh, ow)
        (self.kd, self.kh, self.kw) = (kd, kh, kw)
        (self.pd, self.ph, self.pw) = (pd, ph, pw)
        (self.dd, self.dh) = (dd, dh)
        wp = (ow + kw - 1 + kw - 1) / kw * kw
    }

    /// W''[o][(e·T + t)·C + c] = W[o][c][t·kw + e] (W: O × C × T·kw).
    func reorder(_ w: UnsafePointer<Float>, outChannels o: Int, into r: UnsafeMutablePointer<Float>) {
        let c = channels, t = taps, k = rows
        for oc in 0..<o {
            for ic in 0..<c {
                let src = w + (oc * c + ic) * t * kw
                for a in 0..<t { for e in 0..<kw { r[oc * k + (e * t + a) * c + ic] = src[a * kw + e] } }
            }
        }
    }

    /// The flipped weights for `flipped(outChannels:)`: Wf''[c][(e·T + t)·O + o] =
    /// W[o][c][T·kw − 1 − (t·kw + e)], with W: O × C × T·kw and this geometry's C channels.
    func reorderFlipped(_ w: UnsafePointer<Float>, outChannels o: Int, into r: UnsafeMutablePointer<Float>) {
        let c = channels, t = taps, v = t * kw, k = kw * t * o
        for ic in 0..<c {
            for oc in 0..<o {
                let src = w + (oc * c + ic) * v
                for a in 0..<t { for e in 0..<kw { r[ic * k + (e * t + a) * o + oc] = src[v - 1 - (a * kw + e)] } }
            }
        }
    }

    /// dW[o][c][t·kw + e] += dW''ᵀ[((e·T + t)·C + c)·O + o].
    func addGradient(_ dwt: UnsafePointer<Float>, outChannels o: Int, into dw: UnsafeMutablePointer<Float>) {
        let c = channels, t = taps
        for oc in 0..<o {
            for ic in 0..<c {
                let dst = dw + (oc * c + ic) * t * kw
                for a in 0..<t { for e in 0..<kw { dst[a * kw + e] += dwt[((e * t + a) * c + ic) * o + oc] } }
            }
        }
    }
}

/// How a batch's global lines are cut into chunks whose Q stays in L2.
struct TapChunks {
    /// Floats of Q a chunk aims for.
    static let budget = 1 << 17
    /// Fewest GEMM rows (patches per residue) worth a call.
    static let minRows = 256

    let lines: Int

    init(_ t: TapRows, batch: Int) {
        let perLine = t.wp * t.pixel, rowsPerLine = t.wp / t.kw
        let want = max(Self.budget / max(perLine, 1), (Self.minRows + rowsPerLine - 1) / max(rowsPerLine, 1))
        lines = max(1, min(batch * t.lines, want))
    }

    /// Q floats of a chunk (with the kw zero pixels after it).
    func qCount(_ t: TapRows) -> Int { (lines * t.wp + t.kw) * t.pixel }
    /// Padded positions of a chunk.
    func positions(_ t: TapRows) -> Int { lines * t.wp }

    /// body(firstLine, lineCount) over all lines of the batch.
    @inline(__always)
    func forEach(_ t: TapRows, batch: Int, _ body: (Int, Int) -> Void) { forEachRun(total: batch * t.lines, size: lines, body) }
}

extension Conv {
    /// Workspace layout of the tap-rows passes (unit stride; see the file header), in floats:
    ///   wr   O·K              reordered weights, or the flipped ones (C × K₂, K₂ = kw·T·O)
    ///   dwt  K·O              backward: dW in tap-rows order, transposed
    ///   q    Q of one chunk   of X (forward, dW) or of dY (dX)
    ///   dyt  chunk × O        backward: dY by padded position
    ///   tmp  chunk × max(O, C) a chunk's output rows
    struct TapPlan {
        let t: TapRows, f: TapRows
        let forward: TapChunks, inputGradient: TapChunks
        let wr, dwt, q, dyt, tmp, workspace: Int

        init(_ t: TapRows, batch: Int, outChannels o: Int) {
            self.t = t
            f = t.flipped(outChannels: o)
            forward = TapChunks(t, batch: batch)
            inputGradient = TapChunks(f, batch: batch)
            var at = 0
            func take(_ n: Int) -> Int { defer { at += (n + 15) & ~15 }; return at }
            wr = take(o * t.rows)
            dwt = take(o * t.rows)
            q = take(max(forward.qCount(t), inputGradient.qCount(f)))
            dyt = take(forward.positions(t) * o)
            tmp = take(max(forward.positions(t) * o, inputGradient.positions(f) * t.channels))
            workspace = at
        }
    }
}
