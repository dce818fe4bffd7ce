import CGDAL
import DataIO
import Foundation

/// A tiled, DEFLATE-compressed GeoTIFF written a strip of rows at a time, so a scene's output
/// never lives whole in memory. Written to `path.tmp` and renamed by `finish` (after the
/// overviews): the file appears complete or not at all; a writer dropped unfinished removes
/// its temporary file.
final class StripRasterWriter<T: RasterScalar> {
    let path: String
    let width: Int, height: Int, bands: Int
    private let tmp: String
    private var ds: GDALDatasetH?

    init(_ path: String, grid: GeoGrid, projection: String, bands: Int, noData: Double,
         descriptions: [String] = [], tileSize: Int = 256) throws {
        self.path = path
        (width, height, self.bands) = (grid.width, grid.height, bands)
        tmp = path + ".tmp"
        _ = GDAL.version  // registers the drivers
        CPLPushErrorHandler(CPLQuietErrorHandler)
        defer { CPLPopErrorHandler() }
        guard let driver = GDALGetDriverByName("GTiff") else { throw DataError(path: path, "GDAL has no GTiff driver") }
        let isFloat = T.self == Float.self || T.self == Double.self
        var opts = ["TILED=YES", "BLOCKXSIZE=\(tileSize)", "BLOCKYSIZE=\(tileSize)", "COMPRESS=DEFLATE",
                    "PREDICTOR=\(isFloat ? 3 : 2)", "BIGTIFF=IF_SAFER"]
        if bands > 1 { opts.append("INTERLEAVE=BAND") }
        var ptrs: [UnsafeMutablePointer<CChar>?] = opts.map { strdup($0) } + [nil]
        defer { for p in ptrs { free(p) } }
        CPLErrorReset()
        guard let h = GDALCreate(driver, tmp, Int32(width), Int32(height), Int32(bands), T.gdalType, &ptrs) else {
            throw DataError(path: path, "cannot create \(tmp): \(Self.lastError)")
        }
        ds = h
        var gt = grid.geoTransform
        guard GDALSetGeoTransform(h, &gt) == CE_None, GDALSetProjection(h, projection) == CE_None else {
            throw DataError(path: path, "cannot set the geotransform or CRS: \(Self.lastError)")
        }
        for b in 1...bands {
            let band = GDALGetRasterBand(h, Int32(b))
            guard GDALSetRasterNoDataValue(band, noData) == CE_None else {
                throw DataError(path: path, object: "band \(b)", "cannot set NODATA \(noData): \(Self.lastError)")
            }
            if b <= descriptions.count { GDALSetDescription(band, descriptions[b - 1]) }
        }
    }

    deinit {
        if let ds {
            GDALClose(ds)
            unlink(tmp)
            unlink(tmp + ".aux.xml")
        }
    }

    /// Writes rows `rows` of every band from `data`, laid out bands × rows.count × width.
    func write(rows: Range<Int>, _ data: UnsafePointer<T>) throws {
        guard let ds else { throw DataError(path: path, "already finished") }
        guard !rows.isEmpty else { return }
        precondition(rows.lowerBound >= 0 && rows.upperBound <= height)
        var map = (1...bands).map { Int32($0) }
        let size = MemoryLayout<T>.stride, n = rows.count
        CPLErrorReset()
        let rc = GDALDatasetRasterIOEx(ds, GF_Write, 0, Int32(rows.lowerBound), Int32(width), Int32(n),
                                       UnsafeMutableRawPointer(mutating: data), Int32(width), Int32(n), T.gdalType,
                                       Int32(bands), &map, GSpacing(size), GSpacing(size * width), GSpacing(size * width * n), nil)
        guard rc == CE_None else { throw DataError(path: path, object: "rows \(rows)", "write failed: \(Self.lastError)") }
    }

    /// Band 1's colour table (entry i = `colours[i]`, RGBA) and category names (value i = `names[i]`).
    func setClasses(colours: [(UInt8, UInt8, UInt8, UInt8)], names: [String]) throws {
        guard let ds else { throw DataError(path: path, "already finished") }
        let band = GDALGetRasterBand(ds, 1)
        let ct = GDALCreateColorTable(GPI_RGB)
        defer { GDALDestroyColorTable(ct) }
        for (i, c) in colours.enumerated() {
            var e = GDALColorEntry(c1: Int16(c.0), c2: Int16(c.1), c3: Int16(c.2), c4: Int16(c.3))
            GDALSetColorEntry(ct, Int32(i), &e)
        }
        guard GDALSetRasterColorTable(band, ct) == CE_None else {
            throw DataError(path: path, "cannot set the colour table: \(Self.lastError)")
        }
        // GTiff keeps category names in the PAM sidecar (path.aux.xml, moved with the file);
        // the same names go in the band metadata, kept inside the TIFF.
        var ptrs: [UnsafeMutablePointer<CChar>?] = names.map { strdup($0) } + [nil]
        defer { for p in ptrs { free(p) } }
        guard GDALSetRasterCategoryNames(band, &ptrs) == CE_None else {
            throw DataError(path: path, "cannot set the class names: \(Self.lastError)")
        }
        for (i, name) in names.enumerated() { GDALSetMetadataItem(band, "CLASS_\(i)", name, nil) }
    }

    /// Builds overviews (halving while the smaller side stays ≥ 64 px; `resampling` is GDAL's,
    /// "NEAREST" for classes), closes the file and renames it into place.
    func finish(overviews resampling: String) throws {
        guard let h = ds else { throw DataError(path: path, "already finished") }
        var levels: [Int32] = []
        var f: Int32 = 2
        while min(width, height) / Int(f) >= 64 { levels.append(f); f *= 2 }
        if levels.isEmpty, max(width, height) > 64 { levels = [2] }
        CPLPushErrorHandler(CPLQuietErrorHandler)
        defer { CPLPopErrorHandler() }
        CPLErrorReset()
        if !levels.isEmpty, GDALBuildOverviews(h, resampling, Int32(levels.count), &levels, 0, nil, nil, nil) != CE_None {
            throw DataError(path: path, "cannot build overviews: \(Self.lastError)")
        }
        ds = nil
        // Closing writes the last tiles and the directory: a failure here is a bad file.
        CPLErrorReset()
        GDALClose(h)
        let (aux, tmpAux) = (path + ".aux.xml", tmp + ".aux.xml")
        guard CPLGetLastErrorType() != CE_Failure, CPLGetLastErrorType() != CE_Fatal else {
            let m = Self.lastError
            unlink(tmp)
            unlink(tmpAux)
            throw DataError(path: path, "writing failed on close: \(m)")
        }
        // A sidecar left by an earlier file at `path` would describe the wrong raster.
        unlink(aux)
        guard rename(tmp, path) == 0 else {
            let m = String(cString: strerror(errno))
            unlink(tmp)
            unlink(tmpAux)
            throw DataError(path: path, "cannot rename \(tmp) into place: \(m)")
        }
        if FileManager.default.fileExists(atPath: tmpAux), rename(tmpAux, aux) != 0 {
            throw DataError(path: aux, "cannot rename \(tmpAux) into place: \(String(cString: strerror(errno)))")
        }
    }

    static var lastError: String {
        guard let m = CPLGetLastErrorMsg(), m.pointee != 0 else { return "unknown GDAL error" }
        return String(cString: m)
    }
}
