import CGDAL
import Foundation

/// A raster opened read-only through GDAL (GeoTIFF or any format GDAL reads). Bands are
/// numbered from 1, as in GDAL and gdalinfo. Not thread-safe: one `Raster` per thread.
public final class Raster {
    public let path: String
    public let width: Int
    public let height: Int
    public let bandCount: Int
    private var ds: GDALDatasetH?

    public init(_ path: String) throws {
        self.path = path
        let flags = UInt32(GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR)
        let handle: GDALDatasetH? = GDAL.quietly { GDALOpenEx(path, flags, nil, nil, nil) }
        guard let handle else {
            if !FileManager.default.fileExists(atPath: path) { throw DataError(path: path, "no such file") }
            throw DataError(path: path, "cannot open as a raster: \(GDAL.lastError)")
        }
        ds = handle
        width = Int(GDALGetRasterXSize(handle))
        height = Int(GDALGetRasterYSize(handle))
        bandCount = Int(GDALGetRasterCount(handle))
    }

    deinit { if let ds { GDALClose(ds) } }

    /// Releases the file; later calls throw.
    public func close() {
        if let ds { GDALClose(ds) }
        ds = nil
    }

    /// GDAL driver short name ("GTiff").
    public var driver: String {
        guard let ds, let d = GDALGetDatasetDriver(ds) else { return "" }
        return String(cString: GDALGetDriverShortName(d))
    }

    /// The six affine coefficients (x0, dx/col, dx/row, y0, dy/col, dy/row), or nil when the
    /// file has no georeferencing.
    public var geoTransform: [Double]? {
        guard let ds else { return nil }
        var gt = [Double](repeating: 0, count: 6)
        return GDAL.quietly { GDALGetGeoTransform(ds, &gt) } == CE_None ? gt : nil
    }

    /// Coordinate reference system as WKT ("" when none).
    public var projectionWKT: String {
        guard let ds, let p = GDALGetProjectionRef(ds) else { return "" }
        return String(cString: p)
    }

    /// EPSG code of the CRS when it has one (or GDAL can identify one).
    public var epsg: Int? { Raster.epsg(ofWKT: projectionWKT) }

    static func epsg(ofWKT wkt: String) -> Int? {
        guard !wkt.isEmpty, let srs = OSRNewSpatialReference(wkt) else { return nil }
        defer { OSRDestroySpatialReference(srs) }
        func code() -> Int? {
            guard let name = OSRGetAuthorityName(srs, nil), String(cString: name).uppercased() == "EPSG",
                  let c = OSRGetAuthorityCode(srs, nil) else { return nil }
            return Int(String(cString: c))
        }
        if let c = code() { return c }
        _ = GDAL.quietly { OSRAutoIdentifyEPSG(srs) }
        return code()
    }

    public func dataType(band: Int) throws -> String {
        String(cString: GDALGetDataTypeName(GDALGetRasterDataType(try self.band(band))))
    }

    /// The band's NODATA value, or nil when it has none.
    public func noData(band: Int) throws -> Double? {
        var has: Int32 = 0
        let v = GDALGetRasterNoDataValue(try self.band(band), &has)
        return has != 0 ? v : nil
    }

    /// The band's natural block (tile or strip) size: read windows aligned with it.
    public func blockSize(band: Int = 1) throws -> (width: Int, height: Int) {
        var w: Int32 = 0, h: Int32 = 0
        GDALGetBlockSize(try self.band(band), &w, &h)
        return (Int(w), Int(h))
    }

    /// The band's description ("" when none).
    public func description(band: Int) throws -> String {
        guard let d = GDALGetDescription(try self.band(band)) else { return "" }
        return String(cString: d)
    }

    /// Reads the window (x, y, width × height) of `bands` (1-based, any order; nil: all) into
    /// `buffer`, laid out C×H×W (band outermost), converting to `T`.
    public func read<T: RasterScalar>(x: Int, y: Int, width w: Int, height h: Int, bands: [Int]? = nil,
                                      into buffer: UnsafeMutableBufferPointer<T>) throws {
        guard let ds else { throw DataError(path: path, "raster is closed") }
        var map = (bands ?? Array(1...max(bandCount, 1))).map { Int32($0) }
        let window = "window x \(x) y \(y) size \(w)×\(h)"
        guard w > 0, h > 0, x >= 0, y >= 0, x + w <= width, y + h <= height else {
            throw DataError(path: path, object: window, "outside the raster (\(width)×\(height))")
        }
        for b in map where b < 1 || Int(b) > bandCount {
            throw DataError(path: path, object: "band \(b)", "no such band (the raster has \(bandCount))")
        }
        guard buffer.count == map.count * w * h else {
            throw DataError(path: path, object: window, "\(map.count) bands need \(map.count * w * h) values, buffer holds \(buffer.count)")
        }
        let size = MemoryLayout<T>.stride
        let rc = GDAL.quietly {
            GDALDatasetRasterIOEx(ds, GF_Read, Int32(x), Int32(y), Int32(w), Int32(h), buffer.baseAddress,
                                  Int32(w), Int32(h), T.gdalType, Int32(map.count), &map,
                                  GSpacing(size), GSpacing(size * w), GSpacing(size * w * h), nil)
        }
        guard rc == CE_None else {
            throw DataError(path: path, object: window, "read failed: \(GDAL.lastError)")
        }
    }

    /// Reads the window (x, y, width × height) of `bands` (1-based) to `base`, converting to
    /// `T`: pixel (band i, row r, column c) goes to `base[i * bandStride + r * lineStride + c]`.
    /// The caller owns the memory and its extent; this only checks the window and the bands.
    /// Lets a reader fill a sub-rectangle of a larger plane, or C×T×H×W planes of one date.
    public func read<T: RasterScalar>(x: Int, y: Int, width w: Int, height h: Int, bands: [Int],
                                      into base: UnsafeMutablePointer<T>, lineStride: Int, bandStride: Int) throws {
        guard let ds else { throw DataError(path: path, "raster is closed") }
        var map = bands.map { Int32($0) }
        let window = "window x \(x) y \(y) size \(w)×\(h)"
        guard w > 0, h > 0, x >= 0, y >= 0, x + w <= width, y + h <= height else {
            throw DataError(path: path, object: window, "outside the raster (\(width)×\(height))")
        }
        for b in map where b < 1 || Int(b) > bandCount {
            throw DataError(path: path, object: "band \(b)", "no such band (the raster has \(bandCount))")
        }
        guard !map.isEmpty, lineStride >= w, map.count == 1 || bandStride >= lineStride * h else {
            throw DataError(path: path, object: window, "bad buffer layout (line stride \(lineStride), band stride \(bandStride))")
        }
        let size = MemoryLayout<T>.stride
        let rc = GDAL.quietly {
            GDALDatasetRasterIOEx(ds, GF_Read, Int32(x), Int32(y), Int32(w), Int32(h), base,
                                  Int32(w), Int32(h), T.gdalType, Int32(map.count), &map,
                                  GSpacing(size), GSpacing(size * lineStride), GSpacing(size * bandStride), nil)
        }
        guard rc == CE_None else {
            throw DataError(path: path, object: window, "read failed: \(GDAL.lastError)")
        }
    }

    /// Reads a window into a new array, C×H×W.
    public func read<T: RasterScalar>(x: Int, y: Int, width w: Int, height h: Int, bands: [Int]? = nil,
                                      as _: T.Type = Float.self) throws -> [T] {
        let c = bands?.count ?? bandCount
        var out = [T](unsafeUninitializedCapacity: max(c * w * h, 1)) { _, n in n = max(c * w * h, 0) }
        try out.withUnsafeMutableBufferPointer { try read(x: x, y: y, width: w, height: h, bands: bands, into: $0) }
        return out
    }

    private func band(_ i: Int) throws -> GDALRasterBandH {
        guard let ds else { throw DataError(path: path, "raster is closed") }
        guard i >= 1, i <= bandCount, let b = GDALGetRasterBand(ds, Int32(i)) else {
            throw DataError(path: path, object: "band \(i)", "no such band (the raster has \(bandCount))")
        }
        return b
    }
}
