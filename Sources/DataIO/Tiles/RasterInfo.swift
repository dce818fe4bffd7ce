/// What the index records about one raster file: its grid, CRS and bands.
public struct RasterInfo: Sendable, Equatable {
    public let path: String
    public let grid: GeoGrid
    /// CRS as WKT (never empty: a raster without one is rejected).
    public let crs: String
    public let epsg: Int?
    public let bandCount: Int
    /// Per band (index 0 = GDAL band 1).
    public let noData: [Double?]
    public let dataTypes: [String]
    public let descriptions: [String]
    /// Natural block (tile or strip) size of band 1.
    public let blockWidth: Int
    public let blockHeight: Int

    public var footprint: Bounds { grid.bounds }

    /// Opens `path` and reads its header. Throws a `DataError` naming the file when it cannot
    /// be opened as a raster, has no georeferencing, a rotated grid or no/unknown CRS.
    public static func inspect(_ path: String) throws -> RasterInfo {
        let r = try Raster(path)
        guard r.bandCount > 0 else { throw DataError(path: path, "has no raster bands") }
        guard let gt = r.geoTransform else {
            throw DataError(path: path, "has no georeferencing (no geotransform): its footprint is unknown")
        }
        guard let grid = GeoGrid(geoTransform: gt, width: r.width, height: r.height) else {
            throw DataError(path: path, "has a rotated or degenerate geotransform \(gt): only north-up grids are supported")
        }
        let wkt = r.projectionWKT
        _ = try SpatialReference(wkt: wkt, path: path) // validates
        var nd: [Double?] = [], types: [String] = [], desc: [String] = []
        for b in 1...r.bandCount {
            nd.append(try r.noData(band: b))
            types.append(try r.dataType(band: b))
            desc.append(try r.description(band: b))
        }
        let bs = try r.blockSize(band: 1)
        return RasterInfo(path: path, grid: grid, crs: wkt, epsg: r.epsg, bandCount: r.bandCount, noData: nd,
                          dataTypes: types, descriptions: desc, blockWidth: bs.width, blockHeight: bs.height)
    }
}
