import Engine

/// Seeded smooth random fields, as pure functions of map coordinates: lattice value noise and
/// its fractal sums (fBm), plus hashes of integer coordinates for per-field and per-pixel draws.
///
/// Everything `rstrain synth` draws goes through these: no generator state, so any pixel of any
/// grid (10 m, 30 m, a 100 m label in another CRS) gets the same value whichever thread computes
/// it and in whatever order: output is a function of the seed alone.
enum Noise {
    /// A child key: `parent` refined by a number (shard, tile, date, band...).
    @inline(__always)
    static func key(_ parent: UInt64, _ n: Int) -> UInt64 {
        CounterRandom.key(parent, UInt64(truncatingIfNeeded: n))
    }

    /// A child key refined by a name ("lakes", "clouds"...), FNV-1a hashed.
    static func key(_ parent: UInt64, _ name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return CounterRandom.key(parent, h)
    }

    /// Hash of the integer point (i, j) under `key`.
    @inline(__always)
    static func hash(_ key: UInt64, _ i: Int64, _ j: Int64) -> UInt64 {
        SplitMix64.mix(key &+ UInt64(bitPattern: i) &* 0x9E37_79B9_7F4A_7C15
                       &+ UInt64(bitPattern: j) &* 0xC2B2_AE3D_27D4_EB4F)
    }

    /// Uniform in [0, 1) from a hash.
    @inline(__always)
    static func unit(_ h: UInt64) -> Float { Float(h >> 40) * 0x1p-24 }

    /// Approximately standard normal from a hash (Irwin–Hall sum of four 16-bit uniforms,
    /// rescaled to unit variance; tails bounded at ±3.46).
    @inline(__always)
    static func gaussian(_ h: UInt64) -> Float {
        let s = Float(h & 0xFFFF) + Float((h >> 16) & 0xFFFF) + Float((h >> 32) & 0xFFFF) + Float(h >> 48)
        return (s * 0x1p-16 - 2) * 1.732_050_8
    }

    /// Value noise in [0, 1]: hashed values on the integer lattice, blended with a quintic
    /// fade, so the field and its gradient are continuous. One unit = one lattice cell.
    @inline(__always)
    static func value(_ key: UInt64, _ x: Double, _ y: Double) -> Float {
        let fx = x.rounded(.down), fy = y.rounded(.down)
        let i = Int64(fx), j = Int64(fy)
        let tx = Float(x - fx), ty = Float(y - fy)
        let sx = tx * tx * tx * (tx * (tx * 6 - 15) + 10)
        let sy = ty * ty * ty * (ty * (ty * 6 - 15) + 10)
        let a = unit(hash(key, i, j)), b = unit(hash(key, i &+ 1, j))
        let c = unit(hash(key, i, j &+ 1)), d = unit(hash(key, i &+ 1, j &+ 1))
        let top = a + (b - a) * sx, bottom = c + (d - c) * sx
        return top + (bottom - top) * sy
    }

    /// Fractal sum of `octaves` value-noise layers (each twice as fine, half as strong),
    /// normalised to [0, 1]. Layers are offset from each other so their lattices do not align.
    @inline(__always)
    static func fbm(_ key: UInt64, _ x: Double, _ y: Double, octaves: Int) -> Float {
        var sum: Float = 0, amp: Float = 1, norm: Float = 0, f = 1.0
        for o in 0..<octaves {
            let k = key &+ UInt64(o) &* 0x632B_E59B_D9B4_E019
            sum += amp * value(k, x * f + Double(o) * 17.31, y * f - Double(o) * 9.77)
            norm += amp
            amp *= 0.5
            f *= 2
        }
        return sum / norm
    }

    /// One-dimensional fBm in [0, 1] (a meander, a coastline).
    static func fbm1(_ key: UInt64, _ t: Double, octaves: Int) -> Float {
        fbm(key, t, 0.5, octaves: octaves)
    }

    /// The `p`-quantile of `fbm(..., octaves:)` over the plane, from a fixed sample: thresholds
    /// for "this fraction of the area" (lakes, cloud cover, unlabelled patches).
    static func fbmQuantile(octaves: Int, _ p: Float) -> Float {
        let table = quantileTables[max(1, min(octaves, quantileTables.count)) - 1]
        let i = Int((min(max(p, 0), 1) * Float(table.count - 1)).rounded())
        return table[i]
    }

    /// Sorted fBm samples for 1...6 octaves (computed once, deterministically).
    private static let quantileTables: [[Float]] = (1...6).map { octaves in
        var v = [Float]()
        v.reserveCapacity(16_384)
        for j in 0..<128 {
            for i in 0..<128 {
                // Points ~1.7 lattice cells apart over a 220-cell square: nearly independent.
                v.append(fbm(0x5EED, Double(i) * 1.73 + 0.31, Double(j) * 1.69 + 0.57, octaves: octaves))
            }
        }
        return v.sorted()
    }

    /// Smooth step from 0 (x <= a) to 1 (x >= b).
    @inline(__always)
    static func smoothstep(_ a: Float, _ b: Float, _ x: Float) -> Float {
        let t = min(max((x - a) / (b - a), 0), 1)
        return t * t * (3 - 2 * t)
    }
}
