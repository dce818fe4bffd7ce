/// Winograd's minimal filtering F(2×2, 3×3) for 3×3 convolutions with stride 1, dilation 1
/// and padding 1 in H and W (the "same" convolutions of a U-Net): each 2×2 output tile takes
/// 16 multiplications per (input, output) channel pair instead of 36. With the 4×4 input tile
/// d at rows 2ty − 1…2ty + 2, columns 2tx − 1…2tx + 2 (zero outside the image):
///   Y_tile = Aᵀ [ U ⊙ V ] A,   U = G g Gᵀ (per weight 3×3 g),   V = Bᵀ d B
///   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
///   Aᵀ = [1 1 1 0; 0 1 −1 −1]
/// Summed over input channels, the 16 element products are 16 GEMMs, with tiles as rows:
///   M[ξ] (tiles × O) = V[ξ] (tiles × C) · U[ξ] (C × O),   ξ = 4i + j
/// (OpenBLAS runs these near its peak even for 16 channels). A 3×3×3 convolution over
/// N×C×D×H×W (stride 1, padding 1 in depth too) is the sum over its 3 depth taps a of such
/// 2D convolutions of the input slices z + a − 1: with V's rows ordered (slice, tile) and one
/// zero slice before and after, tap a is V's row block shifted by a slices, so
///   M[ξ] ((D·tiles) × O) = Σ_a V[ξ]⟨rows from slice a⟩ · U[ξ][a]       (3 GEMMs, β = 1)
/// The transforms run eight channels at a time on channels-last data: each chunk of tile rows
/// copies its input rows channels-last (transposes), and its output rows go back
/// channel-major the same way. The input gradient is the same convolution of dY with each
/// kernel rotated by 180° (and its depth taps reversed), channels swapped; the weight
/// gradient is the adjoint of the forward formula (`weightGradient`).
///
/// Layouts (floats) of one chunk of R tile rows (global tile row r = n·TH + ty), T = R·TW
/// tiles per slice, Dp = D + 2·pd slices (pd = 1 for 3D, else 0):
///   rows  R × Dp × 4 × (2·TW + 2) × C   the 4 input rows of each tile row and slice,
///                                       channels-last, one zero column on each side (zero
///                                       rows and slices outside the image)
///   V     16 × (Dp·T) × C               rows (slice, tile); planes 16 floats apart beyond
///                                       the size (see `plane`)
///   M     16 × (D·T) × O                (Z, dY's transform, for the weight gradient)
///   out   R × D × 2 × W × O             the output rows (dY's rows for the weight gradient)
///   U     16 × kd × C × O               transformed weights (per call; dU for the gradient)
struct Winograd {
    let channels: Int, outChannels: Int
    /// Depth (1 for 2D), height, width of input and output.
    let d: Int, h: Int, w: Int
    /// Depth taps (1 or 3) and depth padding (0 or 1).
    let kd: Int, pd: Int
    /// Tiles per column and per row.
    let th: Int, tw: Int

    /// Floats of tiles (V and M) a chunk aims for.
    static let budget = 1 << 19
    /// Fewest GEMM rows (tiles × slices) per call.
    static let minTiles = 256

    /// The Winograd form of `g`, or nil unless it is a 2D 3×3 convolution, or a 3D 3×3×3 one,
    /// with stride 1, dilation 1 and padding 1.
    init?(_ g: PatchGeometry, outChannels o: Int) {
        guard g.kh == 3, g.kw == 3, g.sh == 1, g.sw == 1, g.dh == 1, g.dw == 1, g.ph == 1, g.pw == 1,
              g.oh == g.h, g.ow == g.w, g.od == g.d, g.sd == 1, g.dd == 1,
              (g.kd == 1 && g.pd == 0) || (g.kd == 3 && g.pd == 1) else { return nil }
        self.init(channels: g.channels, outChannels: o, d: g.d, h: g.h, w: g.w, kd: g.kd)
    }

    private init(channels: Int, outChannels: Int, d: Int, h: Int, w: Int, kd: Int) {
        self.channels = channels
        self.outChannels = outChannels
        (self.d, self.h, self.w) = (d, h, w)
        self.kd = kd
        pd = kd / 2
        th = (h + 1) / 2
        tw = (w + 1) / 2
    }

    /// The same convolution for the input gradient: dY (outChannels) → dX (channels).
    var transposed: Winograd { Winograd(channels: outChannels, outChannels: channels, d: d, h: h, w: w, kd: kd) }

    /// Padded depth slices of V.
    var slices: Int { d + 2 * pd }

    /// Tile rows per chunk for a batch.
    func chunkRows(batch: Int) -> Int {
        let perRow = 16 * tw * (slices * channels + d * outChannels)
        let want = max(Self.budget / max(perRow, 1), (Self.minTiles + d * tw - 1) / (d * tw))
        return max(1, min(batch * th, want))
    }

    /// Floats between the 16 planes of V (`slices` of them) or M for `count` tile rows of `ch`
    /// channels: the plane size plus 16, so that the 16 planes do not sit at multiples of
    /// 4 KB of each other (loads and stores 4 KB apart falsely depend on each other and slowed
    /// the transforms several times over).
    func plane(count: Int, slices sl: Int, channels ch: Int) -> Int { sl * count * tw * ch + 16 }

    /// Workspace layout of one pass, in floats (see the header).
    struct Layout {
        let rows: Int, u, rowsAt, v, m, out, total: Int
        init(_ f: Winograd, batch: Int) {
            rows = f.chunkRows(batch: batch)
            var at = 0
            func take(_ n: Int) -> Int { defer { at += (n + 15) & ~15 }; return at }
            u = take(16 * f.kd * f.channels * f.outChannels)
            rowsAt = take(rows * f.slices * 4 * (2 * f.tw + 2) * f.channels)
            v = take(16 * f.plane(count: rows, slices: f.slices, channels: f.channels))
            m = take(16 * f.plane(count: rows, slices: f.d, channels: f.outChannels))
            out = take(rows * f.d * 2 * f.w * f.outChannels)
            total = at
        }
    }

    /// Workspace floats for one pass of this form.
    func workspace(batch: Int) -> Int { Layout(self, batch: batch).total }

    /// U[ξ][a][c][o] = (G g Gᵀ)[ξ] for g = W[o][c][a] (W: O × C × kd × 3 × 3), the forward
    /// form; or, with `inputGradient`, U[ξ][a][o][c] from W[o][c][kd − 1 − a] rotated by 180°,
    /// for the transposed form (whose input channels are W's output channels).
    static func transformWeights(_ wt: UnsafePointer<Float>, outChannels o: Int, channels c: Int, depth kd: Int,
                                 inputGradient: Bool, into u: UnsafeMutablePointer<Float>) {
        let plane = c * o
        for oc in 0..<o {
            for ic in 0..<c {
                for a in 0..<kd {
                    let g = wt + ((oc * c + ic) * kd + (inputGradient ? kd - 1 - a : a)) * 9
                    @inline(__always) func at(_ i: Int, _ j: Int) -> Float { inputGradient ? g[(2 - i) * 3 + (2 - j)] : g[i * 3 + j] }
                    // G g, by columns j: (g0, (g0 + g1 + g2)/2, (g0 − g1 + g2)/2, g2) down rows i = 0…3
                    @inline(__always) func gcol(_ j: Int) -> SIMD4<Float> {
                        let g0 = at(0, j), g1 = at(1, j), g2 = at(2, j)
                        return SIMD4<Float>(g0, (g0 + g1 + g2) * 0.5, (g0 - g1 + g2) * 0.5, g2)
                    }
                    let x0 = gcol(0), x1 = gcol(1), x2 = gcol(2)
                    // (G g) Gᵀ, column j of each row i
                    let c0 = x0, c1 = (x0 + x1 + x2) * 0.5, c2 = (x0 - x1 + x2) * 0.5, c3 = x2
                    let at0 = a * plane + (inputGradient ? oc * c + ic : ic * o + oc) // U[ξ][a][in][out]
                    let step = kd * plane
                    for i in 0..<4 {
                        u[(4 * i + 0) * step + at0] = c0[i]
                        u[(4 * i + 1) * step + at0] = c1[i]
                        u[(4 * i + 2) * step + at0] = c2[i]
                        u[(4 * i + 3) * step + at0] = c3[i]
                    }
                }
            }
        }
    }

    /// y (N × O × D × H × W) = the convolution of x (N × C × D × H × W) with transformed
    /// weights at `ws + layout.u`: written with the bias, or added (`add`, no bias).
    func run(_ x: UnsafePointer<Float>, batch: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
             add: Bool, workspace ws: UnsafeMutablePointer<Float>) {
        let lay = Layout(self, batch: batch)
        let total = batch * th
        var r0 = 0
        while r0 < total {
            let nr = min(lay.rows, total - r0)
            inputRows(x, ws + lay.rowsAt, first: r0, count: nr)
            inputTransform(ws + lay.rowsAt, ws + lay.v, count: nr)
            multiply(ws + lay.v, ws + lay.u, ws + lay.m, count: nr)
            outputTransform(ws + lay.m, ws + lay.out, first: r0, count: nr, bias: bias)
            outputRows(ws + lay.out, y, first: r0, count: nr, add: add)
            r0 += nr
        }
    }

    /// The 4 input rows of each slice of tile rows first..<first+count, channels-last with a
    /// zero border (zero rows outside the image, zero slices outside the depth).
    func inputRows(_ x: UnsafePointer<Float>, _ rows: UnsafeMutablePointer<Float>, first: Int, count: Int) {
        let c = channels, hw = h * w, dhw = d * hw, wb = 2 * tw + 2
        for i in 0..<count {
            let n = (first + i) / th, ty = (first + i) % th
            for sl in 0..<slices {
                let z = sl - pd
                for q in 0..<4 {
                    let ih = 2 * ty - 1 + q, dst = rows + ((i * slices + sl) * 4 + q) * wb * c
                    if ih >= 0 && ih < h && z >= 0 && z < d {
                        Runs.zero(dst, c)
                        Transpose.run(x + n * c * dhw + z * hw + ih * w, rows: c, cols: w, lds: dhw, dst + c, ldd: c,
                                      add: false, bias: nil)
                        Runs.zero(dst + (w + 1) * c, (wb - w - 1) * c)
                    } else {
                        Runs.zero(dst, wb * c)
                    }
                }
            }
        }
    }

    /// V[ξ][(slice, tile)][c] = (Bᵀ d B)[ξ] for the tiles of `count` tile rows, eight channels at
    /// a time (whole lanes in the main loop: the partial-lane form in all 32 loads and stores
    /// made the code several times longer and slower).
    func inputTransform(_ rows: UnsafePointer<Float>, _ vb: UnsafeMutablePointer<Float>, count: Int) {
        let c = channels, wb = 2 * tw + 2, t = count * tw, pv = plane(count: count, slices: slices, channels: c)
        for i in 0..<count {
            for sl in 0..<slices {
                for tx in 0..<tw {
                    let src = rows + (((i * slices + sl) * 4) * wb + 2 * tx) * c, dst = vb + (sl * t + i * tw + tx) * c
                    var c8 = 0
                    while c8 + 8 <= c {
                        Self.inputTile(src + c8, rowStride: wb * c, pixel: c, dst + c8, plane: pv, lanes: 8)
                        c8 += 8
                    }
                    if c8 < c { Self.inputTile(src + c8, rowStride: wb * c, pixel: c, dst + c8, plane: pv, lanes: c - c8) }
                }
            }
        }
    }

    /// One tile's V for `lanes` ≤ 8 channels: d[q][j] at src + q·rowStride + j·pixel,
    /// V[ξ] at dst + ξ·plane.
    @inline(__always)
    static func inputTile(_ src: UnsafePointer<Float>, rowStride: Int, pixel: Int, _ dst: UnsafeMutablePointer<Float>,
                          plane: Int, lanes k: Int) {
        typealias F8 = SIMD8<Float>
        @inline(__always) func d(_ q: Int, _ j: Int) -> F8 {
            let p = src + q * rowStride + j * pixel
            return k == 8 ? UnsafeRawPointer(p).loadUnaligned(as: F8.self) : Lanes.load(p, k)
        }
        @inline(__always) func put(_ xi: Int, _ v: F8) {
            let p = dst + xi * plane
            if k == 8 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: F8.self) } else { Lanes.put(v, p, k, add: false) }
        }
        // Row by row q: d B = (d0 − d2, d1 + d2, d2 − d1, d1 − d3); then Bᵀ over the rows.
        @inline(__always) func row(_ q: Int) -> (F8, F8, F8, F8) {
            let a0 = d(q, 0), a1 = d(q, 1), a2 = d(q, 2), a3 = d(q, 3)
            return (a0 - a2, a1 + a2, a2 - a1, a1 - a3)
        }
        let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3)
        put(0, r0.0 - r2.0); put(1, r0.1 - r2.1); put(2, r0.2 - r2.2); put(3, r0.3 - r2.3)
        put(4, r1.0 + r2.0); put(5, r1.1 + r2.1); put(6, r1.2 + r2.2); put(7, r1.3 + r2.3)
        put(8, r2.0 - r1.0); put(9, r2.1 - r1.1); put(10, r2.2 - r1.2); put(11, r2.3 - r1.3)
        put(12, r1.0 - r3.0); put(13, r1.1 - r3.1); put(14, r1.2 - r3.2); put(15, r1.3 - r3.3)
    }

    /// M[ξ] = Σ_a V[ξ]⟨slices a…⟩·U[ξ][a] for the tiles of `count` tile rows.
    func multiply(_ vb: UnsafePointer<Float>, _ u: UnsafePointer<Float>, _ mb: UnsafeMutablePointer<Float>, count: Int) {
        let c = channels, o = outChannels, t = count * tw
        let pv = plane(count: count, slices: slices, channels: c), pm = plane(count: count, slices: d, channels: o)
        for xi in 0..<16 {
            for a in 0..<kd {
                BLAS.sgemm(m: d * t, n: o, k: c, a: vb + xi * pv + a * t * c, lda: c, b: u + (xi * kd + a) * c * o, ldb: o,
                           beta: a == 0 ? 0 : 1, c: mb + xi * pm, ldc: o)
            }
        }
    }

    /// Y = Aᵀ M A (+ bias) per tile of tile rows first..<first+count, into channels-last
    /// output rows (2 per tile row and slice), eight channels at a time.
    func outputTransform(_ mb: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, first: Int, count: Int,
                         bias: UnsafePointer<Float>?) {
        let o = outChannels, t = count * tw, pm = plane(count: count, slices: d, channels: o)
        for i in 0..<count {
            let ty = (first + i) % th
            let rowsOut = min(2, h - 2 * ty)
            for z in 0..<d {
                for tx in 0..<tw {
                    let colsOut = min(2, w - 2 * tx)
                    let src = mb + (z * t + i * tw + tx) * o, dst = out + (((i * d + z) * 2) * w + 2 * tx) * o
                    var o8 = 0
                    while o8 + 8 <= o {
                        Self.outputTile(src + o8, plane: pm, bias: bias.map { $0 + o8 }, dst + o8, rowStride: w * o, pixel: o,
                                        rows: rowsOut, cols: colsOut, lanes: 8)
                        o8 += 8
                    }
                    if o8 < o {
                        Self.outputTile(src + o8, plane: pm, bias: bias.map { $0 + o8 }, dst + o8, rowStride: w * o, pixel: o,
                                        rows: rowsOut, cols: colsOut, lanes: o - o8)
                    }
                }
            }
        }
    }

    /// One tile's 2×2 outputs (the first rows × cols of them) for `lanes` ≤ 8 channels.
    @inline(__always)
    static func outputTile(_ src: UnsafePointer<Float>, plane: Int, bias: UnsafePointer<Float>?,
                           _ dst: UnsafeMutablePointer<Float>, rowStride: Int, pixel: Int, rows: Int, cols: Int, lanes k: Int) {
        typealias F8 = SIMD8<Float>
        @inline(__always) func m(_ xi: Int) -> F8 {
            let p = src + xi * plane
            return k == 8 ? UnsafeRawPointer(p).loadUnaligned(as: F8.self) : Lanes.load(p, k)
        }
        @inline(__always) func put(_ v: F8, _ p: UnsafeMutablePointer<Float>) {
            if k == 8 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: F8.self) } else { Lanes.put(v, p, k, add: false) }
        }
        let b = bias.map { k == 8 ? UnsafeRawPointer($0).loadUnaligned(as: F8.self) : Lanes.load($0, k) } ?? F8()
        // Aᵀ M by columns j: (m0 + m1 + m2, m1 − m2 − m3); then A over the columns.
        let s00 = m(0) + m(4) + m(8), s10 = m(4) - m(8) - m(12)
        let s01 = m(1) + m(5) + m(9), s11 = m(5) - m(9) - m(13)
        let s02 = m(2) + m(6) + m(10), s12 = m(6) - m(10) - m(14)
        let s03 = m(3) + m(7) + m(11), s13 = m(7) - m(11) - m(15)
        put(s00 + s01 + s02 + b, dst)
        if cols > 1 { put(s01 - s02 - s03 + b, dst + pixel) }
        if rows > 1 {
            put(s10 + s11 + s12 + b, dst + rowStride)
            if cols > 1 { put(s11 - s12 - s13 + b, dst + rowStride + pixel) }
        }
    }

    /// dW[o][c] += Gᵀ (Σ_tiles (A dY_t Aᵀ) ⊙ V_t) G: the weight gradient in the same tiles
    /// (the adjoint of the forward formula, U = G g Gᵀ). Per chunk, Z[ξ] = (A dY Aᵀ)[ξ] and
    ///   dU[ξ][a] (C × O) += V[ξ]⟨slices a…⟩ᵀ (C × D·tiles) · Z[ξ] (D·tiles × O)
    /// and at the end dW[o][c][a] += Gᵀ dU[·][a][c][o] G. Workspace as `run` (dU in place of
    /// U, Z in place of M, dY's rows in place of the output rows).
    func weightGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, batch: Int,
                        into dw: UnsafeMutablePointer<Float>, workspace ws: UnsafeMutablePointer<Float>) {
        let lay = Layout(self, batch: batch)
        let c = channels, o = outChannels
        let du = ws + lay.u
        du.update(repeating: 0, count: 16 * kd * c * o)
        let total = batch * th
        var r0 = 0
        while r0 < total {
            let nr = min(lay.rows, total - r0), t = nr * tw
            inputRows(x, ws + lay.rowsAt, first: r0, count: nr)
            inputTransform(ws + lay.rowsAt, ws + lay.v, count: nr)
            gradientRows(dy, ws + lay.out, first: r0, count: nr)
            gradientTransform(ws + lay.out, ws + lay.m, first: r0, count: nr)
            let pv = plane(count: nr, slices: slices, channels: c), pm = plane(count: nr, slices: d, channels: o)
            for xi in 0..<16 {
                for a in 0..<kd {
                    BLAS.sgemm(transA: true, m: c, n: o, k: d * t, a: ws + lay.v + xi * pv + a * t * c, lda: c,
                               b: ws + lay.m + xi * pm, ldb: o, beta: 1, c: du + (xi * kd + a) * c * o, ldc: o)
                }
            }
            r0 += nr
        }
        // dW = Gᵀ dU G, Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]: rows of Gᵀ dU, then the same on
        // the columns.
        let plane = c * o, step = kd * plane
        @inline(__always) func gt(_ v: SIMD4<Float>) -> SIMD3<Float> {
            SIMD3<Float>(v[0] + (v[1] + v[2]) * 0.5, (v[1] - v[2]) * 0.5, (v[1] + v[2]) * 0.5 + v[3])
        }
        for ic in 0..<c {
            for oc in 0..<o {
                for a in 0..<kd {
                    let at = a * plane + ic * o + oc
                    @inline(__always) func col(_ j: Int) -> SIMD4<Float> {
                        SIMD4<Float>(du[j * step + at], du[(4 + j) * step + at], du[(8 + j) * step + at], du[(12 + j) * step + at])
                    }
                    // Gᵀ applied down each column j of dU: e_j (3 values, rows r).
                    let e0 = gt(col(0)), e1 = gt(col(1)), e2 = gt(col(2)), e3 = gt(col(3))
                    let g = dw + ((oc * c + ic) * kd + a) * 9
                    for r in 0..<3 {
                        let v = gt(SIMD4<Float>(e0[r], e1[r], e2[r], e3[r]))
                        g[r * 3] += v[0]; g[r * 3 + 1] += v[1]; g[r * 3 + 2] += v[2]
                    }
                }
            }
        }
    }

    /// The 2 rows of dY of each slice of tile rows first..<first+count, channels-last (W × O).
    func gradientRows(_ dy: UnsafePointer<Float>, _ rows: UnsafeMutablePointer<Float>, first: Int, count: Int) {
        let o = outChannels, hw = h * w, dhw = d * hw
        for i in 0..<count {
            let n = (first + i) / th, ty = (first + i) % th
            for z in 0..<d {
                for a in 0..<min(2, h - 2 * ty) {
                    Transpose.run(dy + n * o * dhw + z * hw + (2 * ty + a) * w, rows: o, cols: w, lds: dhw,
                                  rows + ((i * d + z) * 2 + a) * w * o, ldd: o, add: false, bias: nil)
                }
            }
        }
    }

    /// Z[ξ][(slice, tile)][o] = (A dY Aᵀ)[ξ] per tile (dY zero outside the image), eight
    /// channels at a time: A dY Aᵀ has rows (y0, y0 + y1, y0 − y1, −y1) of columns
    /// (c0, c0 + c1, c0 − c1, −c1).
    func gradientTransform(_ rows: UnsafePointer<Float>, _ zb: UnsafeMutablePointer<Float>, first: Int, count: Int) {
        typealias F8 = SIMD8<Float>
        let o = outChannels, t = count * tw, pz = plane(count: count, slices: d, channels: o)
        for i in 0..<count {
            let ty = (first + i) % th, rowsIn = min(2, h - 2 * ty)
            for z in 0..<d {
                for tx in 0..<tw {
                    let colsIn = min(2, w - 2 * tx)
                    let src = rows + (((i * d + z) * 2) * w + 2 * tx) * o, dst = zb + (z * t + i * tw + tx) * o
                    var o8 = 0
                    while o8 < o {
                        let k = min(8, o - o8)
                        @inline(__always) func y(_ a: Int, _ b: Int) -> F8 {
                            a < rowsIn && b < colsIn ? Lanes.load(src + (a * w + b) * o + o8, k) : F8()
                        }
                        @inline(__always) func put(_ xi: Int, _ v: F8) { Lanes.put(v, dst + xi * pz + o8, k, add: false) }
                        let y00 = y(0, 0), y01 = y(0, 1), y10 = y(1, 0), y11 = y(1, 1)
                        // columns: c_a = (y_a0, y_a0 + y_a1, y_a0 − y_a1, −y_a1)
                        let c0 = (y00, y00 + y01, y00 - y01, F8() - y01)
                        let c1 = (y10, y10 + y11, y10 - y11, F8() - y11)
                        put(0, c0.0); put(1, c0.1); put(2, c0.2); put(3, c0.3)
                        put(4, c0.0 + c1.0); put(5, c0.1 + c1.1); put(6, c0.2 + c1.2); put(7, c0.3 + c1.3)
                        put(8, c0.0 - c1.0); put(9, c0.1 - c1.1); put(10, c0.2 - c1.2); put(11, c0.3 - c1.3)
                        put(12, F8() - c1.0); put(13, F8() - c1.1); put(14, F8() - c1.2); put(15, F8() - c1.3)
                        o8 += 8
                    }
                }
            }
        }
    }

    /// Output rows of tile rows first..<first+count back into channel-major y: written or added.
    func outputRows(_ out: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, first: Int, count: Int, add: Bool) {
        let o = outChannels, hw = h * w, dhw = d * hw
        for i in 0..<count {
            let n = (first + i) / th, ty = (first + i) % th
            for z in 0..<d {
                for a in 0..<min(2, h - 2 * ty) {
                    Transpose.run(out + ((i * d + z) * 2 + a) * w * o, rows: w, cols: o, lds: o,
                                  y + n * o * dhw + z * hw + (2 * ty + a) * w, ldd: dhw, add: add, bias: nil)
                }
            }
        }
    }
}
