/// The hot loops of `GradientReducer`, on raw pointers (callers own the bounds). Plain loops that
/// LLVM vectorises on baseline x86-64 (SSE2): no rounding instruction, no selects, no
/// float-to-Int64 vector conversion needed.
public enum ReduceKernels {
    /// Bit patterns of |x| (sign cleared) order like the magnitudes, and every ±Inf or NaN lies
    /// at or above 0x7F80_0000: one integer max finds both the largest term and a non-finite one.
    public static let magnitudeMask: Int32 = 0x7FFF_FFFF
    public static let nonFiniteBits: Int32 = 0x7F80_0000

    /// 1.5·2^52: for |v| < 2^51, v + magic lands in [2^52, 2^53) where doubles are the integers,
    /// so the addition rounds v to an integer (ties to even, the default rounding) and the
    /// integer sits in the low bits.
    public static let magic: Double = 0x1.8p52
    public static let magicBits = Int64(bitPattern: magic.bitPattern)

    /// dst[i] = src[i], i < n; returns the largest |src[i]| bit pattern (0 for n = 0).
    @inline(__always)
    /// Largest |x| bit pattern of src[0..<n] (as `copy` gives, without the copy).
    public static func maxMagnitudeBits(_ src: UnsafePointer<Float>, count n: Int) -> Int32 {
        var m: Int32 = 0
        for i in 0..<n { m = max(m, Int32(bitPattern: src[i].bitPattern) & magnitudeMask) }
        return m
    }

    public static func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count n: Int) -> Int32 {
        var m: Int32 = 0
        for i in 0..<n {
            let x = src[i]
            dst[i] = x
            m = max(m, Int32(bitPattern: x.bitPattern) & magnitudeMask)
        }
        return m
    }

    /// acc[i] += src[i], i < n; returns the largest |src[i]| bit pattern.
    @inline(__always)
    public static func accumulate(_ src: UnsafePointer<Float>, into acc: UnsafeMutablePointer<Float>, count n: Int) -> Int32 {
        var m: Int32 = 0
        for i in 0..<n {
            let x = src[i]
            acc[i] += x
            m = max(m, Int32(bitPattern: x.bitPattern) & magnitudeMask)
        }
        return m
    }

    /// sums[i] += Σₜ round(xₜ[o + i] · toGrid), ties to even, i < n, for the 1 to 4 terms in `x`
    /// (several terms per pass: one load and store of the sums instead of one per term).
    /// Needs |xₜ[i] · toGrid| < 2^51 (`FixedPointGrid` guarantees it). Bit-exact whatever the
    /// compiler does: x · toGrid is exact (a power of two), so fusing it with the addition
    /// changes nothing.
    @inline(__always)
    public static func quantise(_ x: UnsafeBufferPointer<UnsafeMutablePointer<Float>>, offset o: Int, count n: Int,
                         toGrid f: Double, into sums: UnsafeMutablePointer<Int64>) {
        // Each term's magic bits: one subtraction of them all per element.
        let magic = Self.magic, bias = magicBits &* Int64(x.count)
        @inline(__always) func q(_ p: UnsafePointer<Float>, _ i: Int) -> Int64 {
            Int64(bitPattern: (Double(p[i]) * f + magic).bitPattern)
        }
        switch x.count {
        case 1:
            let a = x[0] + o
            for i in 0..<n { sums[i] &+= q(a, i) &- bias }
        case 2:
            let a = x[0] + o, b = x[1] + o
            for i in 0..<n { sums[i] &+= (q(a, i) &+ q(b, i)) &- bias }
        case 3:
            let a = x[0] + o, b = x[1] + o, c = x[2] + o
            for i in 0..<n { sums[i] &+= (q(a, i) &+ q(b, i) &+ q(c, i)) &- bias }
        case 4:
            let a = x[0] + o, b = x[1] + o, c = x[2] + o, d = x[3] + o
            for i in 0..<n { sums[i] &+= ((q(a, i) &+ q(b, i)) &+ (q(c, i) &+ q(d, i))) &- bias }
        default:
            preconditionFailure("quantise takes 1 to 4 terms, got \(x.count)")
        }
    }

    /// out[i] = Float(Double(sums[i]) · fromGrid), i < n: each step is one IEEE rounding, so the
    /// same sums give the same floats on every rank.
    @inline(__always)
    public static func convert(_ sums: UnsafePointer<Int64>, count n: Int, fromGrid g: Double, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<n { out[i] = Float(Double(sums[i]) * g) }
    }

    /// out[i] = acc[i] · s, i < n.
    @inline(__always)
    public static func scale(_ acc: UnsafePointer<Float>, by s: Float, count n: Int, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<n { out[i] = acc[i] * s }
    }
}
