/// The fixed-point grid of one bucket in exact mode: a term x becomes the integer
/// q = round(x · 2^shift), ties to even, and the bucket sums its q's as Int64.
///
/// `shift` depends only on values every rank shares — the largest |term| of the bucket over all
/// terms of all ranks (as a bit pattern) and the number of terms M — so every rank picks the
/// same grid:
///   |x| < 2^(e+1),  e = max(biased exponent of max|x|, 1) − 127   (subnormals: e = −126)
///   k = ⌈log₂ M⌉,   P = min(51, 62 − k),   shift = P − (e + 1)
/// Then |q| ≤ 2^P and any M terms sum to at most 2^(k+P) ≤ 2^62: no Int64 overflow in any
/// order. P ≤ 51 lets rounding use the 1.5·2^52 trick (`ReduceKernels.quantise`).
/// The step 2^−shift lies 27 bits below the largest term's own ulp for M ≤ 2048 (38 − k bits
/// beyond): terms down to 2^−27 of the largest are summed exactly, smaller ones are rounded by
/// at most half a step each.
public struct FixedPointGrid: Equatable {
    public let shift: Int

    /// - maxBits: the largest |x| bit pattern of the bucket (0 when all terms are zero or there are
    ///   none); finite, i.e. below 0x7F80_0000.
    /// - terms: M, the number of terms over all ranks.
    public init(maxBits: Int32, terms: Int) {
        let e = max(Int(maxBits >> 23), 1) - 127
        let k = terms <= 1 ? 0 : Int.bitWidth - (terms - 1).leadingZeroBitCount
        shift = min(51, 62 - k) - (e + 1)
    }

    /// 2^shift: puts a term on the grid (x · 2^shift is exact in Double for every float x).
    public var toGrid: Double { Double(sign: .plus, exponent: shift, significand: 1) }

    /// 2^−shift · scale: takes a sum back (exact too: a float times a power of two, in range).
    public func fromGrid(scale: Float) -> Double { Double(sign: .plus, exponent: -shift, significand: 1) * Double(scale) }
}
