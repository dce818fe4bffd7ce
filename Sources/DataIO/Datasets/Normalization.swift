import Engine

/// How image values are normalised before training, applied to a batch in place; masked
/// pixels (and a time series' missing dates, under a date mask) stay 0.
/// - `statistics`: (x − mean) / std per band (std 0 → divided by 1);
/// - `affine`: x · scale + offset per band (one value: every band), e.g. reflectance =
///   DN / 10000 (`reflectance()`), or a product's stored scale/offset;
/// - `identity`.
public enum Normalization: Codable, Equatable, Sendable {
    case identity
    case statistics(BandStatistics)
    case affine(scale: [Float], offset: [Float])

    /// Reflectance = DN / `divisor` (Sentinel-2 L2A's 10000).
    public static func reflectance(divisor: Float = 10_000) -> Normalization { .affine(scale: [1 / divisor], offset: [0]) }

    /// Per-band (scale, offset) such that normalised = x · scale + offset, in Double (applied
    /// in Double: x ≈ 10⁴ with mean ≈ 10⁴ would lose digits to cancellation in Float).
    public func coefficients(bands: Int) -> (scale: [Double], offset: [Double]) {
        switch self {
        case .identity:
            return ([Double](repeating: 1, count: bands), [Double](repeating: 0, count: bands))
        case .statistics(let s):
            precondition(s.bands == bands, "statistics of \(s.bands) bands for a \(bands)-band image")
            let sd = s.std.map { $0 > 0 ? $0 : 1 }
            return (sd.map { 1 / $0 }, zip(s.mean, sd).map { -$0 / $1 })
        case .affine(let scale, let offset):
            func expand(_ v: [Float], _ name: String) -> [Double] {
                precondition(v.count == 1 || v.count == bands, "\(v.count) \(name) values for \(bands) bands")
                return v.count == 1 ? [Double](repeating: Double(v[0]), count: bands) : v.map(Double.init)
            }
            return (expand(scale, "scale"), expand(offset, "offset"))
        }
    }

    /// Normalises rows 0..<batch.count of `batch.image` in place.
    public func apply(to batch: SampleBatch) {
        if case .identity = self { return }
        let c = batch.shapes.channels
        let (scale, offset) = coefficients(bands: c)
        let per = batch.shapes.image.count / c
        for i in 0..<batch.count {
            let (m, hw) = batch.valueMask(i)
            for b in 0..<c {
                let x = batch.imageRow(i) + b * per
                let (s, o) = (scale[b], offset[b])
                for q in 0..<per { x[q] = m[q % hw] != 0 ? Float(Double(x[q]) * s + o) : 0 }
            }
        }
    }
}
