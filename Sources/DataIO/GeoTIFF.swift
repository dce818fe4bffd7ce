import CGDAL
import Foundation

/// Pixel types rstrain reads and writes through GDAL.
public protocol RasterScalar {
    static var gdalType: GDALDataType { get }
}
extension Float: RasterScalar { public static var gdalType: GDALDataType { GDT_Float32 } }
extension Double: RasterScalar { public static var gdalType: GDALDataType { GDT_Float64 } }
extension UInt8: RasterScalar { public static var gdalType: GDALDataType { GDT_Byte } }
extension Int16: RasterScalar { public static var gdalType: GDALDataType { GDT_Int16 } }
extension UInt16: RasterScalar { public static var gdalType: GDALDataType { GDT_UInt16 } }
extension Int32: RasterScalar { public static var gdalType: GDALDataType { GDT_Int32 } }

/// GDAL library facts and process-wide settings.
public enum GDAL {
    /// Registers every driver, once per process.
    static let registered: Void = { GDALAllRegister() }()

    /// "3.6.2".
    public static var version: String {
        _ = registered
        return String(cString: GDALVersionInfo("RELEASE_NAME"))
    }

    /// True if the driver (e.g. "GTiff") is available.
    public static func hasDriver(_ name: String) -> Bool {
        _ = registered
        return GDALGetDriverByName(name) != nil
    }

    /// Size of GDAL's block cache, shared by every open raster in the process.
    public static var cacheBytes: Int {
        get { Int(GDALGetCacheMax64()) }
        set { GDALSetCacheMax64(GIntBig(newValue)) }
    }

    /// Runs `body` with GDAL's messages kept off stderr (this thread only) and the last error
    /// cleared first, so `lastError` afterwards explains a failure inside `body`.
    static func quietly<R>(_ body: () throws -> R) rethrows -> R {
        _ = registered
        CPLPushErrorHandler(CPLQuietErrorHandler)
        defer { CPLPopErrorHandler() }
        CPLErrorReset()
        return try body()
    }

    /// GDAL's last error message on this thread, or a fallback.
    static var lastError: String {
        guard let m = CPLGetLastErrorMsg(), m.pointee != 0 else { return "unknown GDAL error" }
        return String(cString: m)
    }
}

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

/// Writes tiled, DEFLATE-compressed GeoTIFFs.
public enum GeoTIFF {
    /// Writes C×H×W `data` (`bands` × `height` × `width`) to `path` as a tiled GeoTIFF
    /// (`tileSize`, a multiple of 16) compressed with DEFLATE and the predictor suited to the
    /// type. `projection` is WKT or anything GDAL's user input accepts ("EPSG:32633");
    /// `noData` is set on every band. The file appears complete or not at all (written to
    /// `path.tmp`, then renamed).
    public static func write<T: RasterScalar>(_ path: String, width: Int, height: Int, bands: Int,
                                              data: UnsafeBufferPointer<T>,
                                              geoTransform: [Double]? = nil, projection: String? = nil,
                                              noData: Double? = nil, bandDescriptions: [String] = [],
                                              tileSize: Int = 256) throws {
        guard width > 0, height > 0, bands > 0 else {
            throw DataError(path: path, "cannot write a \(bands)-band \(width)×\(height) raster")
        }
        guard data.count == width * height * bands else {
            throw DataError(path: path, "\(bands)×\(height)×\(width) raster needs \(width * height * bands) values, got \(data.count)")
        }
        guard tileSize >= 16, tileSize % 16 == 0 else { throw DataError(path: path, "tile size \(tileSize) is not a multiple of 16") }
        if let gt = geoTransform, gt.count != 6 { throw DataError(path: path, "geotransform needs 6 coefficients, got \(gt.count)") }
        guard bandDescriptions.isEmpty || bandDescriptions.count == bands else {
            throw DataError(path: path, "\(bandDescriptions.count) band descriptions for \(bands) bands")
        }
        let wkt = try projection.map { try toWKT($0, path: path) }

        let tmp = path + ".tmp"
        try GDAL.quietly {
            guard let driver = GDALGetDriverByName("GTiff") else { throw DataError(path: path, "GDAL has no GTiff driver") }
            let isFloat = T.self == Float.self || T.self == Double.self
            var opts: [String] = ["TILED=YES", "BLOCKXSIZE=\(tileSize)", "BLOCKYSIZE=\(tileSize)",
                                  "COMPRESS=DEFLATE", "PREDICTOR=\(isFloat ? 3 : 2)", "BIGTIFF=IF_SAFER"]
            if bands > 1 { opts.append("INTERLEAVE=BAND") }
            let created: GDALDatasetH? = withCStrings(opts) { list in
                GDALCreate(driver, tmp, Int32(width), Int32(height), Int32(bands), T.gdalType, list)
            }
            guard let ds = created else { throw DataError(path: path, "cannot create: \(GDAL.lastError)") }
            var closed = false
            defer { if !closed { GDALClose(ds); unlink(tmp) } }
            if var gt = geoTransform, GDALSetGeoTransform(ds, &gt) != CE_None {
                throw DataError(path: path, "cannot set geotransform: \(GDAL.lastError)")
            }
            if let wkt, GDALSetProjection(ds, wkt) != CE_None {
                throw DataError(path: path, "cannot set projection: \(GDAL.lastError)")
            }
            for b in 1...bands {
                let band = GDALGetRasterBand(ds, Int32(b))
                if let nd = noData, GDALSetRasterNoDataValue(band, nd) != CE_None {
                    throw DataError(path: path, object: "band \(b)", "cannot set NODATA \(nd): \(GDAL.lastError)")
                }
                if !bandDescriptions.isEmpty { GDALSetDescription(band, bandDescriptions[b - 1]) }
            }
            var map = (1...bands).map { Int32($0) }
            let size = MemoryLayout<T>.stride
            let rc = GDALDatasetRasterIOEx(ds, GF_Write, 0, 0, Int32(width), Int32(height),
                                           UnsafeMutableRawPointer(mutating: data.baseAddress),
                                           Int32(width), Int32(height), T.gdalType, Int32(bands), &map,
                                           GSpacing(size), GSpacing(size * width), GSpacing(size * width * height), nil)
            guard rc == CE_None else { throw DataError(path: path, "write failed: \(GDAL.lastError)") }
            closed = true
            // GDALClose writes the last tiles and the directory; its failure means a bad file.
            CPLErrorReset()
            GDALClose(ds)
            guard CPLGetLastErrorType() != CE_Failure, CPLGetLastErrorType() != CE_Fatal else {
                unlink(tmp)
                throw DataError(path: path, "writing failed on close: \(GDAL.lastError)")
            }
        }
        guard rename(tmp, path) == 0 else {
            let msg = String(cString: strerror(errno))
            unlink(tmp)
            throw DataError(path: path, "cannot rename \(tmp) into place: \(msg)")
        }
    }

    /// Array convenience.
    public static func write<T: RasterScalar>(_ path: String, width: Int, height: Int, bands: Int, data: [T],
                                              geoTransform: [Double]? = nil, projection: String? = nil,
                                              noData: Double? = nil, bandDescriptions: [String] = [],
                                              tileSize: Int = 256) throws {
        try data.withUnsafeBufferPointer {
            try write(path, width: width, height: height, bands: bands, data: $0, geoTransform: geoTransform,
                      projection: projection, noData: noData, bandDescriptions: bandDescriptions, tileSize: tileSize)
        }
    }

    /// WKT for "EPSG:n", a PROJ string or WKT.
    static func toWKT(_ s: String, path: String) throws -> String {
        _ = GDAL.registered
        guard let srs = OSRNewSpatialReference(nil) else { throw DataError(path: path, "cannot make a spatial reference") }
        defer { OSRDestroySpatialReference(srs) }
        guard GDAL.quietly({ OSRSetFromUserInput(srs, s) }) == OGRERR_NONE else {
            throw DataError(path: path, "unknown projection '\(s.prefix(80))'")
        }
        var out: UnsafeMutablePointer<CChar>?
        guard OSRExportToWkt(srs, &out) == OGRERR_NONE, let out else {
            throw DataError(path: path, "cannot express projection '\(s.prefix(80))' as WKT")
        }
        defer { VSIFree(out) }
        return String(cString: out)
    }
}

/// Calls `body` with a NULL-terminated C string list (GDAL's `char **` options).
func withCStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    ptrs.append(nil)
    defer { for p in ptrs { free(p) } }
    return ptrs.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}
