/// BatchNorm for few positions per channel (spatial size S < `spreadBelow`: ResNet's 7×7,
/// 4×4, 2×2 maps with 256–2048 channels, dense N×C features, short 1D series). The per-channel
/// loops of `BatchNorm` would run N·C runs of S floats each, mostly as lane tails; here one
/// sample is a contiguous row of L = C·S floats and every pass runs along rows in 16-float
/// lanes, with per-element coefficients spread out from the per-channel ones (workspace 6·L).
///
///   statistics (training): per element j of a row, over the batch,
///     T1[j] = Σₙ (x[n,j] − K[j]),  T2[j] = Σₙ (x[n,j] − K[j])²,  K[j] = x[0,j]
///   then per channel c (Double, j over the channel's S elements, M = N·S):
///     μ = (N·ΣK[j] + ΣT1[j]) / M
///     σ² = Σ (T2[j] + 2·(K[j] − μ)·T1[j] + N·(K[j] − μ)²) / M     (exact: Σ (x − μ)²)
///   backward sums: G1[j] = Σₙ g,  G2[j] = Σₙ g·(x − μ),  folded per channel the same way.
///
/// Memory order: sums run row by row over tiles of 1024 elements (the accumulators stay in
/// L1, each row is read as one sequential run); the elementwise passes run row by row. Going
/// down the batch inside a lane instead (32 rows L floats apart) measured several times slower,
/// worst on the writes (docs/engine.md).
///
/// Precision: the shift K is a value of the channel itself, so the sums do not cancel when
/// |μ| ≫ σ; Float sums run over at most 64 samples, block sums are added in Float (N/64 of
/// them), the per-channel fold over S elements in Double. Error grows with N/64, not with M.
extension BatchNorm {
    /// Spatial sizes below this take the spread path.
    static let spreadBelow = 64
    /// Elements per tile of the batch sums.
    static let spreadTile = 1024

    @inline(__always)
    static func spreads(_ s: Shape) -> Bool { s.count / (s.batch * s.channels) < spreadBelow }

    /// Workspace of the spread path: six rows of L = C·S floats.
    static func spreadWorkspace(_ s: Shape) -> Int { spreads(s) ? 6 * (s.count / s.batch) : 0 }

    func spreadForward(_ c: LayerContext, training: Bool) {
        let s = c.inputs[0].shape
        let n = s.batch, ch = s.channels, sp = s.count / (n * ch), m = n * sp, len = ch * sp
        let x = c.inputs[0].data, y = c.output.data
        let runMean = c.state[0].data, runVar = c.state[1].data
        let mean = c.saved + 1, inv = c.saved + 1 + ch
        let ws = c.workspace
        if training {
            let t1 = ws, t2 = ws + len
            // (x − K, (x − K)²) with K = sample 0's row; sample 0 adds nothing
            SpreadRows.batchBlocks(n: n, len: len, into: t1, t2, partial: ws + 2 * len, ws + 3 * len) { i0, i1, b0, b1, a1, a2 in
                for b in b0..<b1 {
                    let xb = x + b * len, first = b == b0
                    var i = i0
                    while i < i1 {
                        let k = min(16, i1 - i)
                        let v = SpreadRows.load(xb + i, k) - SpreadRows.load(x + i, k)
                        SpreadRows.put(v, a1 + i, k, add: !first)
                        SpreadRows.put(v * v, a2 + i, k, add: !first)
                        i += 16
                    }
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
        for b in 0..<n {
            let xb = x + b * len, yb = y + b * len
            SpreadRows.each(len) { i, k in
                let v = (SpreadRows.load(xb + i, k) - SpreadRows.load(mu + i, k)) * SpreadRows.load(a + i, k) + SpreadRows.load(bt + i, k)
                SpreadRows.put(relu ? v.replacing(with: 0, where: v .< 0) : v, yb + i, k, add: false)
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
        @inline(__always) func grad(_ at: Int, _ k: Int) -> SpreadRows.F16 {
            let d = SpreadRows.load(dy + at, k)
            return relu ? SpreadRows.F16().replacing(with: d, where: SpreadRows.load(y + at, k) .> 0) : d
        }
        let needSums = affine || (training && dx != nil)
        if needSums {
            SpreadRows.batchBlocks(n: n, len: len, into: g1, g2, partial: ws + 4 * len, ws + 5 * len) { i0, i1, b0, b1, a1, a2 in
                for b in b0..<b1 {
                    let o = b * len, first = b == b0
                    var i = i0
                    while i < i1 {
                        let k = min(16, i1 - i)
                        let g = grad(o + i, k)
                        SpreadRows.put(g, a1 + i, k, add: !first)
                        SpreadRows.put(g * (SpreadRows.load(x + o + i, k) - SpreadRows.load(mu + i, k)), a2 + i, k, add: !first)
                        i += 16
                    }
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
        for b in 0..<n {
            let o = b * len
            SpreadRows.each(len) { i, k in
                let v = SpreadRows.load(g1 + i, k) * grad(o + i, k) - SpreadRows.load(g2 + i, k)
                    - SpreadRows.load(r + i, k) * (SpreadRows.load(x + o + i, k) - SpreadRows.load(mu + i, k))
                SpreadRows.put(v, dx + o + i, k, add: add)
            }
        }
    }
}

/// 16-float lanes along rows, with a short tail through a zero-padded vector (as `Lanes`).
enum SpreadRows {
    typealias F16 = SIMD16<Float>

    @inline(__always)
    static func each(_ n: Int, _ body: (Int, Int) -> Void) { Lanes.each(n, lanes: 16, body) }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ k: Int) -> F16 { Lanes.load(p, k, as: F16.self) }

    @inline(__always)
    static func put(_ v: F16, _ p: UnsafeMutablePointer<Float>, _ k: Int, add: Bool) { Lanes.putLanes(v, p, k, add: add) }

    /// Two per-element sums over the batch into s1, s2 (L floats each), by tiles of
    /// `spreadTile` elements and blocks of at most 64 samples: body(i0, i1, b0, b1, a1, a2)
    /// sums samples b0..<b1 over elements i0..<i1 into a1, a2 (writing for its first sample).
    /// With more than 64 samples the blocks sum into p1, p2 and are added into s1, s2.
    @inline(__always)
    static func batchBlocks(n: Int, len: Int, into s1: UnsafeMutablePointer<Float>, _ s2: UnsafeMutablePointer<Float>,
                            partial p1: UnsafeMutablePointer<Float>, _ p2: UnsafeMutablePointer<Float>,
                            _ body: (Int, Int, Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let tile = BatchNorm.spreadTile, blocked = n > 64
        var i0 = 0
        while i0 < len {
            let i1 = min(len, i0 + tile)
            var b0 = 0
            while b0 < n {
                let b1 = min(n, b0 + 64)
                if !blocked { body(i0, i1, b0, b1, s1, s2); b0 = b1; continue }
                body(i0, i1, b0, b1, p1, p2)
                var i = i0
                while i < i1 {
                    let k = min(16, i1 - i)
                    put(load(p1 + i, k), s1 + i, k, add: b0 > 0)
                    put(load(p2 + i, k), s2 + i, k, add: b0 > 0)
                    i += 16
                }
                b0 = b1
            }
            i0 = i1
        }
    }
}
