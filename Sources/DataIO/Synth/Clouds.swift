import Foundation

/// Clouds of one acquisition over one region: bright, smooth blobs (thresholded fBm, soft
/// edges, thin at the rim and opaque in the core) with their shadows cast a few hundred metres
/// away. A function of map coordinates, so clouds continue across neighbouring tiles.
///
/// By default clouds are just bright, as in surface-reflectance products before cloud masking:
/// the model has to cope. `SynthOptions.cloudsAsNoData` flags opaque cores (opacity > 0.7) as
/// NODATA instead, as a product with a cloud mask applied would.
struct CloudLayer: Sendable {
    let key: UInt64
    /// Fraction of the region under cloud (opacity above one half).
    let cover: Float
    private let threshold: Float
    private let scale: Double
    private let shadowDX: Double, shadowDY: Double

    /// The opacity above which a pixel is flagged NODATA when clouds are masked.
    static let opaque: Float = 0.7

    /// Cloud cover of one acquisition: two in five are clear; the rest are 5–40 % cloudy
    /// (a single default acquisition at most 15 %).
    static func cover(key: UInt64, dates: Int) -> Float {
        let u = Noise.unit(Noise.hash(key, 1, 0)), v = Noise.unit(Noise.hash(key, 2, 0))
        if dates == 1 { return 0.15 * v }
        return u < 0.4 ? 0 : 0.05 + 0.35 * v
    }

    init(key: UInt64, cover: Float) {
        self.key = key
        self.cover = cover
        threshold = Noise.fbmQuantile(octaves: 5, 1 - cover)
        scale = 1800 + 2400 * Double(Noise.unit(Noise.hash(key, 3, 0)))
        // Sun from the south-east at mid latitudes: shadows fall to the north-west.
        let length = 300 + 500 * Double(Noise.unit(Noise.hash(key, 4, 0)))
        shadowDX = -length * 0.7
        shadowDY = length * 0.7
    }

    /// Opacity in [0, 1] at map point (x, y).
    @inline(__always)
    func opacity(_ x: Double, _ y: Double) -> Float {
        guard cover > 0 else { return 0 }
        let n = Noise.fbm(key, x / scale, y / scale, octaves: 5)
        return Noise.smoothstep(threshold - 0.03, threshold + 0.07, n)
    }

    /// How much the cloud shadow darkens the ground at (x, y): 1 (no shadow) down to 0.45.
    @inline(__always)
    func shadowFactor(_ x: Double, _ y: Double) -> Float {
        guard cover > 0 else { return 1 }
        return 1 - 0.55 * opacity(x - shadowDX, y - shadowDY)
    }

    /// Brightness variation inside a cloud (0.85…1.15).
    @inline(__always)
    func brightness(_ x: Double, _ y: Double) -> Float {
        0.85 + 0.3 * Noise.fbm(Noise.key(key, 9), x / 400, y / 400, octaves: 3)
    }

    /// Reflectance of a thick cloud at wavelength `um`: bright and flat through the visible and
    /// NIR, lower in the SWIR where water and ice absorb.
    static func reflectance(atMicrometres um: Float) -> Float {
        if um < 1.0 { return 0.62 - 0.05 * (um - 0.45) }
        if um < 1.8 { return 0.45 }
        return 0.3
    }
}
