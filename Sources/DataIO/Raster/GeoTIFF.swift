import CGDAL
import Foundation

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
