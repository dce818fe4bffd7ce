/// How windows are cut from a tile repository and what a window sample holds.
public struct TileOptions: Sendable, Equatable {
    /// A band chosen by name ("B08", image.tif's band description or a band file's stem) or by
    /// 1-based position in the tile's band list (as gdal_translate's `-b`).
    public enum BandSelector: Sendable, Hashable, CustomStringConvertible {
        case name(String)
        case index(Int)
        public var description: String {
            switch self {
            case .name(let n): return "'\(n)'"
            case .index(let i): return "#\(i)"
            }
        }
    }

    /// How a band on a coarser or finer grid is brought onto the target grid. Either way a
    /// target pixel is NODATA exactly when the source pixel under its centre is.
    public enum Resampling: String, Sendable {
        /// The source pixel under the target pixel's centre.
        case nearest
        /// Bilinear between the four source pixel centres around it (NODATA neighbours left
        /// out and the weights renormalised).
        case bilinear
    }

    /// What the label raster becomes on the target grid.
    public enum LabelMode: String, Sendable {
        /// No label is read.
        case none
        /// K×H×W class proportions ("multi-hot"): the area-weighted average of the one-hot
        /// classes over each target pixel, NODATA excluded.
        case proportions
        /// H×W class indices: the class covering most of the target pixel (ties: the lower
        /// index); −1 where masked.
        case hard
    }

    /// Bands to read, in this order; nil: every band of the tile.
    public var bands: [BandSelector]?
    /// Target pixel size (CRS units); nil: the finest band's.
    public var resolution: Double?
    /// Window side in target pixels.
    public var windowSize = 256
    /// Distance between window origins; nil: `windowSize` (no overlap).
    public var stride: Int?
    public var labels: LabelMode = .proportions
    /// Number of classes K when shard.json has no class table (label values 0…K−1).
    public var classCount: Int?
    /// Read target.tif (regression targets) as well.
    public var readTarget = false
    /// Time series: true (strict) masks a pixel that is NODATA or NaN at any date; false masks
    /// only a pixel missing at every date and keeps the others with their missing dates marked
    /// in the sample's date mask (T×S×S) and zeroed, so normalisation leaves them 0 (the band
    /// mean under `.statistics`). No effect on single-date tiles.
    public var maskAnyDate = true
    /// Windows whose masked fraction is above this are skipped.
    public var maxNodataFraction = 0.5
    public var resampling: Resampling = .bilinear
    /// GDAL's block cache in bytes (process-wide; set when a reader starts); nil: GDAL's.
    public var blockCacheBytes: Int?

    public init(bands: [BandSelector]? = nil, resolution: Double? = nil, windowSize: Int = 256, stride: Int? = nil,
                labels: LabelMode = .proportions, classCount: Int? = nil, readTarget: Bool = false,
                maskAnyDate: Bool = true, maxNodataFraction: Double = 0.5, resampling: Resampling = .bilinear,
                blockCacheBytes: Int? = nil) {
        self.bands = bands
        self.resolution = resolution
        self.windowSize = windowSize
        self.stride = stride
        self.labels = labels
        self.classCount = classCount
        self.readTarget = readTarget
        self.maskAnyDate = maskAnyDate
        self.maxNodataFraction = maxNodataFraction
        self.resampling = resampling
        self.blockCacheBytes = blockCacheBytes
    }

    var effectiveStride: Int { stride ?? windowSize }
}
