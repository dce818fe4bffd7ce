/// Copies, adds, fills and sums of short runs (a few to a few dozen floats: a tap's C channels,
/// one sample's positions), inlined, in 8- and 4-float lanes; `update(from:count:)` would call
/// memmove for each.
enum Runs {
    /// dst[0..<n] = src[0..<n]
    @inline(__always)
    static func copy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        if i + 4 <= n {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
            i += 4
        }
        while i < n { dst[i] = src[i]; i += 1 }
    }

    /// dst[0..<n] += src[0..<n]
    @inline(__always)
    static func add(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            let r = UnsafeMutableRawPointer(dst + i)
            r.storeBytes(of: r.loadUnaligned(as: SIMD8<Float>.self) + UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        if i + 4 <= n {
            let r = UnsafeMutableRawPointer(dst + i)
            r.storeBytes(of: r.loadUnaligned(as: SIMD4<Float>.self) + UnsafeRawPointer(src + i).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
            i += 4
        }
        while i < n { dst[i] += src[i]; i += 1 }
    }

    /// dst[0..<n] = src[0..<n] + b
    @inline(__always)
    static func copy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, plus b: Float) {
        var i = 0
        while i + 8 <= n {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self) + b, as: SIMD8<Float>.self)
            i += 8
        }
        if i + 4 <= n {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD4<Float>.self) + b, as: SIMD4<Float>.self)
            i += 4
        }
        while i < n { dst[i] = src[i] + b; i += 1 }
    }

    /// Σ src[0..<n] in eight partial sums.
    @inline(__always)
    static func sum(_ src: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n { acc += UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self); i += 8 }
        var s = acc.sum()
        while i < n { s += src[i]; i += 1 }
        return s
    }

    /// dst[0..<n] = 0
    @inline(__always)
    static func zero(_ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n { UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self); i += 8 }
        while i < n { dst[i] = 0; i += 1 }
    }
}
