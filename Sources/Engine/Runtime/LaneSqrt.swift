#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Square roots of eight lanes as vector instructions. `SIMD8<Float>.squareRoot()` runs lane
/// by lane through the C library's sqrtf (errno semantics: a sqrtss, a test, a possible call
/// per lane) — in Adam's pass over 23.5M parameters that was over half the time. SSE's sqrtps
/// is IEEE correctly rounded like sqrtss, so results are bit-identical to the scalar form.
@inline(__always)
public func laneSqrt(_ v: SIMD8<Float>) -> SIMD8<Float> {
    #if arch(x86_64)
    return SIMD8(lowHalf: _mm_sqrt_ps(v.lowHalf), highHalf: _mm_sqrt_ps(v.highHalf))
    #else
    return v.squareRoot()
    #endif
}
