/// The per-tap algorithm of `Conv` ("taps" in `ConvAlgorithm`) for small maps with padding (ResNet's 3×3 convs on 7×7, 4×4,
/// 2×2 maps): im2col would fill up to half its rows with padding zeros (a 3×3 kernel on a 2×2
/// map reads 4 of its 9 taps at each position) and the GEMM would multiply them. Here each
/// kernel tap t is one O×C GEMM over only the positions where it reads inside the input.
///
/// Stride 1 only: an output run then reads an equally long input run. Shapes (one group of
/// nb samples, columns position-major: column q·nb + s is position q of sample n0 + s):
///   Xg   C×(Pin·nb)   the input gathered (Pin = D·H·W input positions)
///   Yg   O×(P·nb)     the output before its scatter to N×O×P (starts at the bias)
///   Wt   T×O×C        the weight with taps outermost (PyTorch's O×C×T transposed by forward,
///                     kept in `saved` for backward)
///   dWt  T×O×C        the weight gradient with taps outermost, added back into O×C×T
/// For tap t and a run of positions (output q0..<q0+r reading input i0..<i0+r):
///   forward   Yg[:, q0·nb ..< (q0+r)·nb]  += Wt[t] · Xg[:, i0·nb ..< (i0+r)·nb]
///   backward  dWt[t] += dYg[:, out run] · Xg[:, in run]ᵀ;   dXg[:, in run] += Wt[t]ᵀ · dYg[:, out run]
/// With columns position-major, the positions of one output line form one run, and whole
/// lines join into one run where the tap reads full input lines (e.g. the kernel's centre column).
struct SmallMapTaps {
    let g: PatchGeometry
    /// Samples per group.
    let group: Int
    let inChannels: Int, outChannels: Int

    /// Floats of the larger gathered matrix (Xg or Yg) at most per group.
    static let budget = 1 << 20

    init(_ g: PatchGeometry, outChannels: Int, batch: Int, budget: Int = Self.budget) {
        self.g = g
        inChannels = g.channels
        self.outChannels = outChannels
        group = min(batch, max(1, budget / max(1, g.channels * g.inputPositions, outChannels * g.positions)))
    }

    /// The geometry's part of the choice (see `Conv.algorithm`): stride 1, 2 to 64 taps,
    /// C ≥ 64 (each tap's GEMM has K = C), and at least 1/8 of im2col's entries padding.
    static func applies(_ g: PatchGeometry) -> Bool {
        guard g.sd == 1, g.sh == 1, g.sw == 1, (2...64).contains(g.taps), g.channels >= 64 else { return false }
        let full = g.taps * g.positions
        return 8 * (full - g.validTapPositions) >= full
    }

    /// Workspace floats: dWt, Xg, Yg (dYg), dXg.
    var workspace: Int {
        let w = g.taps * outChannels * inChannels
        return w + (2 * inChannels * g.inputPositions + outChannels * g.positions) * group
    }
}

extension PatchGeometry {
    /// Input positions per channel (D·H·W).
    var inputPositions: Int { d * h * w }

    /// Σ over taps of the output positions where the tap reads inside the input.
    var validTapPositions: Int {
        var n = 0
        forEachTapRun { _, _, _, r in n += r }
        return n
    }

    /// Calls body(t, q0, i0, r) for each maximal run where tap t (in weight order) of output
    /// positions q0..<q0+r reads input positions i0..<i0+r. Stride 1 only.
    func forEachTapRun(_ body: (Int, Int, Int, Int) -> Void) {
        var t = 0
        for a in 0..<kd {
            for b in 0..<kh {
                for e in 0..<kw {
                    let fd = a * dd - pd, fh = b * dh - ph, fw = e * dw - pw
                    let d0 = max(0, -fd), d1 = min(od, d - fd)
                    let h0 = max(0, -fh), h1 = min(oh, h - fh)
                    let w0 = max(0, -fw), w1 = min(ow, w - fw)
                    if d0 < d1 && h0 < h1 && w0 < w1 {
                        var q0 = 0, i0 = 0, r = 0
                        for zd in d0..<d1 {
                            for zh in h0..<h1 {
                                let q = (zd * oh + zh) * ow + w0, i = ((zd + fd) * h + zh + fh) * w + w0 + fw
                                if r > 0 && q0 + r == q && i0 + r == i {
                                    r += w1 - w0
                                } else {
                                    if r > 0 { body(t, q0, i0, r) }
                                    q0 = q; i0 = i; r = w1 - w0
                                }
                            }
                        }
                        if r > 0 { body(t, q0, i0, r) }
                    }
                    t += 1
                }
            }
        }
    }
}

extension SmallMapTaps {
    /// Wt[t, o, c] = w[o, c, t]. In blocks of 128 (o, c) pairs: the T write streams lie O·C
    /// floats apart (often a power of two: every stream on one L1 set), so one float at a
    /// time per stream thrashes; a block reads 128·T floats and writes T runs of 128.
    func transposeWeight(_ w: UnsafePointer<Float>, into wt: UnsafeMutablePointer<Float>) {
        let t = g.taps, oc = outChannels * inChannels
        var j0 = 0
        while j0 < oc {
            let j1 = min(oc, j0 + 128)
            for k in 0..<t {
                let dst = wt + k * oc
                for j in j0..<j1 { dst[j] = w[j * t + k] }
            }
            j0 = j1
        }
    }

    /// dw[o, c, t] += dWt[t, o, c], for the taps that have runs (`written`); blocked as
    /// `transposeWeight`.
    func addTransposedGradient(_ dwt: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>, written: (Int) -> Bool) {
        let t = g.taps, oc = outChannels * inChannels
        var j0 = 0
        while j0 < oc {
            let j1 = min(oc, j0 + 128)
            for k in 0..<t where written(k) {
                let src = dwt + k * oc
                for j in j0..<j1 { dw[j * t + k] += src[j] }
            }
            j0 = j1
        }
    }

    /// dst[r, q·nb + s] = src[n0 + s][r, q]  (rows × P per sample, position-major columns)
    static func gather(_ src: UnsafePointer<Float>, rows: Int, p: Int, n0: Int, nb: Int, into dst: UnsafeMutablePointer<Float>) {
        let ss = rows * p, s0 = src + n0 * ss, ld = p * nb
        for r in 0..<rows {
            let d = dst + r * ld, sr = s0 + r * p
            for q in 0..<p {
                let dq = d + q * nb, sq = sr + q
                for s in 0..<nb { dq[s] = sq[s * ss] }
            }
        }
    }

    /// dst[n0 + s][r, q] = src[r, q·nb + s] (write), or += (add)
    static func scatter(_ src: UnsafePointer<Float>, rows: Int, p: Int, n0: Int, nb: Int, into dst: UnsafeMutablePointer<Float>, add: Bool) {
        let ds = rows * p, d0 = dst + n0 * ds, ld = p * nb
        for r in 0..<rows {
            let sr = src + r * ld, dr = d0 + r * p
            for s in 0..<nb {
                let dd = dr + s * ds, ss = sr + s
                if add {
                    for q in 0..<p { dd[q] += ss[q * nb] }
                } else {
                    for q in 0..<p { dd[q] = ss[q * nb] }
                }
            }
        }
    }
}

extension Conv {
    // forward, per group: Yg = b; Yg[:, out run] += Wt[t]·Xg[:, in run] for every tap run; scatter
    func smallMapTapsForward(_ c: LayerContext, _ plan: SmallMapTaps) {
        let g = plan.g, batch = c.inputs[0].shape.batch
        let o = outChannels, ci = g.channels, p = g.positions, pin = g.inputPositions, oc = o * ci
        let x = c.inputs[0].data, y = c.output.data
        let wt = c.saved, xg = c.workspace + g.taps * oc
        let yg = xg + ci * pin * plan.group
        plan.transposeWeight(c.params[0].data, into: wt)
        var n0 = 0
        while n0 < batch {
            let nb = min(plan.group, batch - n0), ld = p * nb, ldx = pin * nb
            SmallMapTaps.gather(x, rows: ci, p: pin, n0: n0, nb: nb, into: xg)
            for r in 0..<o { (yg + r * ld).update(repeating: bias ? c.params[1].data[r] : 0, count: ld) }
            g.forEachTapRun { t, q0, i0, run in
                BLAS.sgemm(m: o, n: run * nb, k: ci, a: wt + t * oc, lda: ci, b: xg + i0 * nb, ldb: ldx,
                           beta: 1, c: yg + q0 * nb, ldc: ld)
            }
            SmallMapTaps.scatter(yg, rows: o, p: p, n0: n0, nb: nb, into: y, add: false)
            n0 += nb
        }
    }

    // backward, per group: dYg = gather(dY), db += row sums, Xg = gather(X);
    //   per tap run: dWt[t] += dYg[:, out]·Xg[:, in]ᵀ, dXg[:, in] += Wt[t]ᵀ·dYg[:, out];
    //   dX (+)= scatter(dXg); finally dW += dWt transposed back to O×C×T
    func smallMapTapsBackward(_ c: LayerContext, _ plan: SmallMapTaps, fresh: Bool) {
        let g = plan.g, batch = c.inputs[0].shape.batch
        let o = outChannels, ci = g.channels, p = g.positions, pin = g.inputPositions, oc = o * ci, t = g.taps
        let x = c.inputs[0].data, dy = c.dOutput.data
        let dx = c.dInputs[0]?.data
        let wt = c.saved, dwt = c.workspace, xg = dwt + t * oc
        let dyg = xg + ci * pin * plan.group, dxg = dyg + o * p * plan.group
        // Taps whose dWt block holds a value (the first run of a tap writes it, beta 0); T ≤ 64.
        var written: UInt64 = 0
        var n0 = 0
        while n0 < batch {
            let nb = min(plan.group, batch - n0), ld = p * nb, ldx = pin * nb
            SmallMapTaps.gather(dy, rows: o, p: p, n0: n0, nb: nb, into: dyg)
            if bias { GroupRows.rowSums(dyg, rows: o, cols: ld, into: c.grads[1].data) }
            SmallMapTaps.gather(x, rows: ci, p: pin, n0: n0, nb: nb, into: xg)
            if dx != nil { dxg.update(repeating: 0, count: ci * ldx) }
            g.forEachTapRun { k, q0, i0, run in
                let first = written & (1 << UInt64(k)) == 0
                written |= 1 << UInt64(k)
                BLAS.sgemm(transB: true, m: o, n: ci, k: run * nb, a: dyg + q0 * nb, lda: ld, b: xg + i0 * nb, ldb: ldx,
                           beta: first ? 0 : 1, c: dwt + k * oc, ldc: ci)
                if dx != nil {
                    BLAS.sgemm(transA: true, m: ci, n: run * nb, k: o, a: wt + k * oc, lda: ci, b: dyg + q0 * nb, ldb: ld,
                               beta: 1, c: dxg + i0 * nb, ldc: ldx)
                }
            }
            if let dx { SmallMapTaps.scatter(dxg, rows: ci, p: pin, n0: n0, nb: nb, into: dx, add: !fresh) }
            n0 += nb
        }
        plan.addTransposedGradient(dwt, into: c.grads[0].data) { written & (1 << UInt64($0)) != 0 }
    }
}
