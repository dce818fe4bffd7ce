/// How predict's GeoTIFFs are laid out and stored (`rstrain predict --cog`, `--probabilities-type`).
public struct RasterOutputOptions: Sendable, Equatable {
    /// Write Cloud-Optimised GeoTIFFs (GDAL's COG driver, from the finished tiled file).
    public var cog = false
    /// Probabilities as float32 (NODATA NaN) or uint8 `round(p·254)` with band scale 1/254
    /// (NODATA 255), a quarter of the size.
    public var probabilities: ProbabilityType = .float32

    public enum ProbabilityType: String, Sendable, CaseIterable { case float32, uint8 }

    public init(cog: Bool = false, probabilities: ProbabilityType = .float32) {
        (self.cog, self.probabilities) = (cog, probabilities)
    }
}
