/// One band of a tile image in one file: GDAL band `band` (1-based) of `path`.
public struct BandSource: Sendable, Equatable {
    public let path: String
    public let band: Int
    public let grid: GeoGrid
    public let noData: Double?
}

/// A named image band of a tile, with one source per date (one source when the tile is not a
/// time series).
public struct TileBand: Sendable, Equatable {
    public let name: String
    /// Ground size of its pixels (CRS units, metres for UTM).
    public let resolution: Double
    public let dataType: String
    public let noData: Double?
    public let sources: [BandSource]
}

/// One tile of a repository: an area on the ground with its image bands (possibly a stack of
/// dates), an optional label raster and an optional regression target raster.
public struct Tile: Sendable, Equatable {
    /// Folder name (unique within the repository; the tiles are sorted by it).
    public let name: String
    /// Folder path.
    public let path: String
    /// CRS of the image files, as WKT.
    public let crs: String
    public let epsg: Int?
    /// Ground footprint of the image, in its CRS.
    public let footprint: Bounds
    /// The native target grid: the finest band's.
    public let grid: GeoGrid
    /// Block size of the finest band's file: windows aligned with it read whole blocks.
    public let blockWidth: Int
    public let blockHeight: Int
    /// Image bands, in read order (shard.json's `bands` order, else the file's band order or
    /// the band files sorted by name).
    public let bands: [TileBand]
    /// Dates (YYYY-MM-DD, sorted) of a time series; empty when the tile is not one.
    public let dates: [String]
    public let label: RasterInfo?
    public let target: RasterInfo?
    /// The part of the footprint the label covers (image CRS); nil without a label.
    public let labelFootprint: Bounds?
    /// The part of the footprint the target covers (image CRS); nil without a target.
    public let targetFootprint: Bounds?

    /// Number of dates read per window (1 when the tile is not a time series).
    public var dateCount: Int { max(dates.count, 1) }

    /// The pixel grid windows are cut from: the finest band's, or the same footprint at
    /// `resolution` when set.
    public func grid(resolution: Double?) -> GeoGrid {
        guard let r = resolution, abs(r - grid.resolution) > 1e-9 * grid.resolution else { return grid }
        return grid.resampled(to: r)
    }

    /// Index of the band named `name`, or nil.
    public func bandIndex(named name: String) -> Int? { bands.firstIndex { $0.name == name } }
}
