/// Eight-float lanes for elementwise loops: LLVM does not vectorize loops with a select or a
/// write-or-add choice well, so hot elementwise ops spell the lanes out. A loop over `n`
/// elements runs `each(n) { i, k in … }` with k = min(8, n − i); `load`/`put` take k and
/// handle the short tail through a zero-padded vector, so one body serves every element.
enum Lanes {
    typealias F8 = SIMD8<Float>

    /// Calls body(i, k) for i = 0, 8, 16, … < n with k = min(8, n − i) valid lanes.
    @inline(__always)
    static func each(_ n: Int, _ body: (Int, Int) -> Void) { each(n, lanes: 8, body) }

    /// k ≤ 8 floats from p (missing lanes 0).
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ k: Int) -> F8 { load(p, k, as: F8.self) }

    /// Writes (add = false) or adds (add = true) the first k lanes of v at p.
    @inline(__always)
    static func put(_ v: F8, _ p: UnsafeMutablePointer<Float>, _ k: Int, add: Bool) { putLanes(v, p, k, add: add) }

    // The same for any lane width (BatchNorm's spread path uses 16).

    @inline(__always)
    static func each(_ n: Int, lanes w: Int, _ body: (Int, Int) -> Void) {
        var i = 0
        while i + w <= n { body(i, w); i += w }
        if i < n { body(i, n - i) }
    }

    @inline(__always)
    static func load<V: SIMD>(_ p: UnsafePointer<Float>, _ k: Int, as: V.Type) -> V where V.Scalar == Float {
        if k == V.scalarCount { return UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var v = V()
        for j in 0..<k { v[j] = p[j] }
        return v
    }

    @inline(__always)
    static func putLanes<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>, _ k: Int, add: Bool) where V.Scalar == Float {
        if k == V.scalarCount {
            let r = UnsafeMutableRawPointer(p)
            r.storeBytes(of: add ? r.loadUnaligned(as: V.self) + v : v, as: V.self)
        } else if add {
            for j in 0..<k { p[j] += v[j] }
        } else {
            for j in 0..<k { p[j] = v[j] }
        }
    }

    /// v where `keep`, else 0 (a NaN in `keep`'s source compares false: 0). Selects take a
    /// vector operand: `replacing(with: 0, …)` with a scalar compiles to per-lane code (~3×
    /// slower).
    @inline(__always)
    static func mask(_ v: F8, _ keep: SIMDMask<F8.MaskStorage>) -> F8 { F8().replacing(with: v, where: keep) }

    /// eˣ per lane, Cephes's single-precision polynomial (error ≈ 1 ulp, as libm's expf):
    /// x = n·ln2 + r with |r| ≤ ln2/2, eʳ by a degree-6 polynomial, 2ⁿ by the exponent bits.
    /// Below −87.3 the result is 0 (no denormals), above 88.7 +∞; NaN stays NaN. Baseline
    /// x86-64 has no vector rounding instruction, so n is rounded with the 1.5·2²³ trick (and read from
    /// the bits, no float-to-int conversion).
    @inline(__always)
    static func exp(_ x: F8) -> F8 {
        // Only vector-with-vector selects: the scalar-operand and mask-negation forms of
        // Swift's SIMD API compile to per-lane branches here (×50 slower).
        let lo = F8(repeating: -87.33654), hi = F8(repeating: 88.72283), zero = F8()
        let xc = x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
        let magic = F8(repeating: 12_582_912) // 1.5·2²³: adding it rounds to an integer in the low bits
        let n = (xc * 1.442_695_04 + magic) - magic
        let r = (xc - n * 0.693_359_375) - n * -2.121_944_4e-4
        var p = F8(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let er = p * (r * r) + r + 1
        // 2ⁿ from the bits: (n + 127) << 23, read off (m + magic)'s low bits; taken as 2ⁿ⁻¹·2
        // for n > 0 so that n = 128 (x near 88.7) does not overflow the exponent.
        let positive = n .> zero
        let m = n.replacing(with: n - 1, where: positive)
        let mi = unsafeBitCast(m + magic, to: SIMD8<Int32>.self) &- SIMD8<Int32>(repeating: 0x4B40_0000 - 127)
        var y = er * unsafeBitCast(mi &<< SIMD8<Int32>(repeating: 23), to: F8.self)
        y = y.replacing(with: y + y, where: positive)
        y = y.replacing(with: zero, where: x .< lo)
        y = y.replacing(with: F8(repeating: .infinity), where: x .> hi)
        return y.replacing(with: x, where: x .!= x)
    }
}
