/// Seeded randomness. Two forms:
/// - `SplitMix64`: a sequential generator (weight initialisation, shuffles).
/// - `CounterRandom`: a stateless hash of (key, index), so element i of a dropout mask is the
///   same whichever rank, thread or order computes it (exact mode depends on this).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    @inline(__always)
    public static func mix(_ x0: UInt64) -> UInt64 {
        var z = x0
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    @inline(__always)
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1p-53, 1e-300)
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }
}

public enum CounterRandom {
    /// Uniform in [0, 1) for element `index` of the stream `key`.
    @inline(__always)
    public static func uniform(key: UInt64, index: Int) -> Float {
        let h = SplitMix64.mix(key ^ SplitMix64.mix(UInt64(truncatingIfNeeded: index) &+ 0x9E37_79B9_7F4A_7C15))
        return Float(h >> 40) * 0x1p-24
    }

    /// Derives a stream key from a parent key and a label (layer index, step, ...).
    @inline(__always)
    public static func key(_ parent: UInt64, _ label: UInt64) -> UInt64 {
        SplitMix64.mix(parent &+ SplitMix64.mix(label &+ 0x632B_E59B_D9B4_E019))
    }
}

// Foundation-free libm access keeps Core usable from any module.
#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
