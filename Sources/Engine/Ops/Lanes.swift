/// Eight-float lanes for elementwise loops: LLVM does not vectorize loops with a select or a
/// write-or-add choice well, so hot elementwise ops spell the lanes out. A loop over `n`
/// elements runs `each(n) { i, k in … }` with k = min(8, n − i); `load`/`put` take k and
/// handle the short tail through a zero-padded vector, so one body serves every element.
enum Lanes {
    typealias F8 = SIMD8<Float>

    /// Calls body(i, k) for i = 0, 8, 16, … < n with k = min(8, n − i) valid lanes.
    @inline(__always)
    static func each(_ n: Int, _ body: (Int, Int) -> Void) {
        var i = 0
        while i + 8 <= n { body(i, 8); i += 8 }
        if i < n { body(i, n - i) }
    }

    /// k ≤ 8 floats from p (missing lanes 0).
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ k: Int) -> F8 {
        if k == 8 { return UnsafeRawPointer(p).loadUnaligned(as: F8.self) }
        var v = F8()
        for j in 0..<k { v[j] = p[j] }
        return v
    }

    /// Writes (add = false) or adds (add = true) the first k lanes of v at p.
    @inline(__always)
    static func put(_ v: F8, _ p: UnsafeMutablePointer<Float>, _ k: Int, add: Bool) {
        if k == 8 {
            let r = UnsafeMutableRawPointer(p)
            r.storeBytes(of: add ? r.loadUnaligned(as: F8.self) + v : v, as: F8.self)
        } else if add {
            for j in 0..<k { p[j] += v[j] }
        } else {
            for j in 0..<k { p[j] = v[j] }
        }
    }

    /// v where `keep`, else 0 (a NaN in `keep`'s source compares false: 0).
    @inline(__always)
    static func mask(_ v: F8, _ keep: SIMDMask<F8.MaskStorage>) -> F8 { F8().replacing(with: v, where: keep) }
}
