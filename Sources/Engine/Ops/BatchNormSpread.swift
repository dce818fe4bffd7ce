/// BatchNorm for few positions per channel (spatial size S < `spreadBelow`: ResNet's 7×7,
/// 4×4, 2×2 maps with 256–2048 channels, dense N×C features, short 1D series). The per-channel
/// loops of `BatchNorm` would run N·C runs of S floats each, mostly as lane tails; here one
/// sample is a contiguous row of L = C·S floats and every pass runs along it in 8-float lanes,
/// with per-element coefficients spread out from the per-channel ones (workspace 4·L floats).
///
///   statistics (training): per element j of a row, over the batch,
///     T1[j] = Σₙ (x[n,j] − K[j]),  T2[j] = Σₙ (x[n,j] − K[j])²,  K[j] = x[0,j]
///   then per channel c (Double, j over the channel's S elements, M = N·S):
///     μ = (N·ΣK[j] + ΣT1[j]) / M
///     σ² = Σ (T2[j] + 2·(K[j] − μ)·T1[j] + N·(K[j] − μ)²) / M     (exact: Σ (x − μ)²)
///   backward sums: G1[j] = Σₙ g,  G2[j] = Σₙ g·(x − μ),  folded per channel the same way.
///
/// Precision: the shift K is a value of the channel itself, so the sums do not cancel when
/// |μ| ≫ σ; Float sums run over at most 64 samples in lanes, block sums are added in Float (N/64
/// of them), the per-channel fold over S elements in Double. Error grows with N/64, not with M.
extension BatchNorm {
    /// Spatial sizes below this take the spread path.
    static let spreadBelow = 64

    @inline(__always)
    static func spreads(_ s: Shape) -> Bool { s.count / (s.batch * s.channels) < spreadBelow }

    /// Workspace of the spread path: four rows of L = C·S floats.
    static func spreadWorkspace(_ s: Shape) -> Int { spreads(s) ? 4 * (s.count / s.batch) : 0 }

    /// Calls body(i, k) per lane block of a row; inside, rows are visited for samples
    /// b0..<b1 in blocks of at most 64 (block index and range).
    @inline(__always)
    private static func sampleBlocks(_ n: Int, _ body: (Int, Int, Int) -> Void) {
        var b0 = 0, blk = 0
        while b0 < n {
            let b1 = min(n, b0 + 64)
            body(blk, b0, b1)
            b0 = b1; blk += 1
        }
    }

    func spreadForward(_ c: LayerContext, training: Bool) {
        let s = c.inputs[0].shape
        let n = s.batch, ch = s.channels, sp = s.count / (n * ch), m = n * sp, len = ch * sp
        let x = c.inputs[0].data, y = c.output.data
        let runMean = c.state[0].data, runVar = c.state[1].data
        let mean = c.saved + 1, inv = c.saved + 1 + ch
        let ws = c.workspace
        if training {
            let t1 = ws, t2 = ws + len
            Self.sampleBlocks(n) { blk, b0, b1 in
                Lanes.each(len) { i, l in
                    let k = Lanes.load(x + i, l)
                    var a1 = Lanes.F8(), a2 = Lanes.F8()
                    for b in b0..<b1 {
                        let v = Lanes.load(x + b * len + i, l) - k
                        a1 += v
                        a2 += v * v
                    }
                    Lanes.put(a1, t1 + i, l, add: blk > 0)
                    Lanes.put(a2, t2 + i, l, add: blk > 0)
                }
            }
            let nd = Double(n), mo = Double(momentum)
            for k in 0..<ch {
                let j0 = k * sp
                var sk = 0.0, s1 = 0.0
                for j in j0..<j0 + sp { sk += Double(x[j]); s1 += Double(t1[j]) }
                let mu = (nd * sk + s1) / Double(m)
                var ss = 0.0
                for j in j0..<j0 + sp {
                    let dk = Double(x[j]) - mu
                    ss += Double(t2[j]) + 2 * dk * Double(t1[j]) + nd * dk * dk
                }
                let v = max(ss / Double(m), 0)
                mean[k] = Float(mu)
                inv[k] = Float(1 / (v + Double(eps)).squareRoot())
                let unbiased = m > 1 ? v * Double(m) / Double(m - 1) : v
                runMean[k] = Float((1 - mo) * Double(runMean[k]) + mo * mu)
                runVar[k] = Float((1 - mo) * Double(runVar[k]) + mo * unbiased)
            }
        } else {
            for k in 0..<ch {
                mean[k] = runMean[k]
                inv[k] = Float(1 / (Double(runVar[k]) + Double(eps)).squareRoot())
            }
        }
        // y = (x − μ)·(γ·inv) + β, per element: MU, A, B spread over the row
        let mu = ws, a = ws + len, bt = ws + 2 * len
        for k in 0..<ch {
            let j0 = k * sp
            let ak = affine ? c.params[0].data[k] * inv[k] : inv[k]
            let bk: Float = affine ? c.params[1].data[k] : 0
            (mu + j0).update(repeating: mean[k], count: sp)
            (a + j0).update(repeating: ak, count: sp)
            (bt + j0).update(repeating: bk, count: sp)
        }
        let relu = self.relu
        Lanes.each(len) { i, l in
            let vmu = Lanes.load(mu + i, l), va = Lanes.load(a + i, l), vb = Lanes.load(bt + i, l)
            for b in 0..<n {
                let v = (Lanes.load(x + b * len + i, l) - vmu) * va + vb
                Lanes.put(relu ? v.replacing(with: 0, where: v .< 0) : v, y + b * len + i, l, add: false)
            }
        }
    }

    func spreadBackward(_ c: LayerContext) {
        let s = c.inputs[0].shape
        let n = s.batch, ch = s.channels, sp = s.count / (n * ch), m = n * sp, len = ch * sp
        let x = c.inputs[0].data, dy = c.dOutput.data, y = c.output.data
        let training = c.saved[0] != 0
        let mean = c.saved + 1, inv = c.saved + 1 + ch
        let dx = c.dInputs[0]?.data
        let add = !c.isFresh(0)
        let relu = self.relu
        let ws = c.workspace
        let mu = ws, g1 = ws + len, g2 = ws + 2 * len, r = ws + 3 * len
        for k in 0..<ch { (mu + k * sp).update(repeating: mean[k], count: sp) }
        // g = dY (masked by y > 0 with the fused ReLU)
        @inline(__always) func grad(_ b: Int, _ i: Int, _ l: Int) -> Lanes.F8 {
            let d = Lanes.load(dy + b * len + i, l)
            return relu ? Lanes.mask(d, Lanes.load(y + b * len + i, l) .> 0) : d
        }
        let needSums = affine || (training && dx != nil)
        if needSums {
            Self.sampleBlocks(n) { blk, b0, b1 in
                Lanes.each(len) { i, l in
                    let vmu = Lanes.load(mu + i, l)
                    var a1 = Lanes.F8(), a2 = Lanes.F8()
                    for b in b0..<b1 {
                        let g = grad(b, i, l)
                        a1 += g
                        a2 += g * (Lanes.load(x + b * len + i, l) - vmu)
                    }
                    Lanes.put(a1, g1 + i, l, add: blk > 0)
                    Lanes.put(a2, g2 + i, l, add: blk > 0)
                }
            }
        }
        // Per channel: the sums, parameter gradients, then dx = P·g − Q − R·(x − μ) spread into
        // the rows g1 (P), g2 (Q), r (R) once the channel's sums are read.
        for k in 0..<ch {
            let j0 = k * sp, iv = inv[k]
            var sdy = 0.0, sdyx = 0.0
            if needSums {
                for j in j0..<j0 + sp { sdy += Double(g1[j]); sdyx += Double(g2[j]) }
            }
            let sdyxhat = sdyx * Double(iv)
            if affine {
                c.grads[0].data[k] += Float(sdyxhat)
                c.grads[1].data[k] += Float(sdy)
            }
            guard dx != nil else { continue }
            let gk = (affine ? c.params[0].data[k] : 1) * iv
            let mdy = training ? Float(sdy / Double(m)) : 0, mdx = training ? Float(sdyxhat / Double(m)) : 0
            (g1 + j0).update(repeating: gk, count: sp)
            (g2 + j0).update(repeating: gk * mdy, count: sp)
            (r + j0).update(repeating: gk * iv * mdx, count: sp)
        }
        guard let dx else { return }
        Lanes.each(len) { i, l in
            let vmu = Lanes.load(mu + i, l), vp = Lanes.load(g1 + i, l), vq = Lanes.load(g2 + i, l), vr = Lanes.load(r + i, l)
            for b in 0..<n {
                let v = vp * grad(b, i, l) - vq - vr * (Lanes.load(x + b * len + i, l) - vmu)
                Lanes.put(v, dx + b * len + i, l, add: add)
            }
        }
    }
}
