import CGDAL
import Foundation

/// A tiled, DEFLATE-compressed GeoTIFF written a strip of rows at a time, so a scene's output
/// never lives whole in memory. Written to `path.tmp` and renamed by `finish` (after the
/// overviews; for a COG, after copying it through GDAL's COG driver): the file appears complete
/// or not at all; a writer dropped unfinished removes its temporary file.
/// `quantized` (Float writers only): the file stores uint8 `round(v·254)` (NaN → 255, NODATA)
/// with band scale 1/254, offset 0, so GDAL and QGIS show the values in 0…1.
public final class StripRasterWriter<T: RasterScalar> {
    public let path: String
    public let width: Int, height: Int, bands: Int
    public let cog: Bool, quantized: Bool
    private let tmp: String
    private var ds: GDALDatasetH?
    private let tileSize: Int
    /// Rows converted to uint8 before writing (quantized writers).
    private var bytes: [UInt8] = []

    public static var quantum: Double { 254 }

    public init(_ path: String, grid: GeoGrid, projection: String, bands: Int, noData: Double,
                descriptions: [String] = [], tileSize: Int = 256, cog: Bool = false, quantized: Bool = false) throws {
        precondition(!quantized || T.self == Float.self, "only float values are quantized")
        self.path = path
        (width, height, self.bands, self.tileSize, self.cog, self.quantized) = (grid.width, grid.height, bands, tileSize, cog, quantized)
        tmp = path + ".tmp"
        _ = GDAL.version  // registers the drivers
        CPLPushErrorHandler(CPLQuietErrorHandler)
        defer { CPLPopErrorHandler() }
        guard let driver = GDALGetDriverByName("GTiff") else { throw DataError(path: path, "GDAL has no GTiff driver") }
        let isFloat = !quantized && (T.self == Float.self || T.self == Double.self)
        var opts = ["TILED=YES", "BLOCKXSIZE=\(tileSize)", "BLOCKYSIZE=\(tileSize)", "COMPRESS=DEFLATE",
                    "PREDICTOR=\(isFloat ? 3 : 2)", "BIGTIFF=IF_SAFER"]
        if bands > 1 { opts.append("INTERLEAVE=BAND") }
        var ptrs: [UnsafeMutablePointer<CChar>?] = opts.map { strdup($0) } + [nil]
        defer { for p in ptrs { free(p) } }
        CPLErrorReset()
        guard let h = GDALCreate(driver, tmp, Int32(width), Int32(height), Int32(bands), quantized ? GDT_Byte : T.gdalType, &ptrs) else {
            throw DataError(path: path, "cannot create \(tmp): \(Self.lastError)")
        }
        ds = h
        var gt = grid.geoTransform
        guard GDALSetGeoTransform(h, &gt) == CE_None, GDALSetProjection(h, projection) == CE_None else {
            throw DataError(path: path, "cannot set the geotransform or CRS: \(Self.lastError)")
        }
        for b in 1...bands {
            let band = GDALGetRasterBand(h, Int32(b))
            let nd = quantized ? 255 : noData
            guard GDALSetRasterNoDataValue(band, nd) == CE_None else {
                throw DataError(path: path, object: "band \(b)", "cannot set NODATA \(nd): \(Self.lastError)")
            }
            if quantized, GDALSetRasterScale(band, 1 / Self.quantum) != CE_None || GDALSetRasterOffset(band, 0) != CE_None {
                throw DataError(path: path, object: "band \(b)", "cannot set the scale 1/\(Int(Self.quantum)): \(Self.lastError)")
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

    /// The COG copy's temporary name (the tiled file is at `tmp`).
    private var cogTmp: String { path + ".cog.tmp" }

    /// Writes rows `rows` of every band from `data`, laid out bands × rows.count × width.
    public func write(rows: Range<Int>, _ data: UnsafePointer<T>) throws {
        guard let ds else { throw DataError(path: path, "already finished") }
        guard !rows.isEmpty else { return }
        precondition(rows.lowerBound >= 0 && rows.upperBound <= height)
        var map = (1...bands).map { Int32($0) }
        let n = rows.count, count = bands * n * width
        let raw = UnsafeMutableRawPointer(mutating: data)
        var type = T.gdalType, size = MemoryLayout<T>.stride
        if quantized {
            // p ∈ [0, 1] → round(p·254) ∈ 0…254; NaN (NODATA) → 255.
            if bytes.count < count { bytes = [UInt8](repeating: 0, count: count) }
            let v = UnsafeRawPointer(data).assumingMemoryBound(to: Float.self), q = Float(Self.quantum)
            bytes.withUnsafeMutableBufferPointer { b in
                for i in 0..<count { b[i] = v[i].isNaN ? 255 : UInt8(min(max((v[i] * q).rounded(), 0), q)) }
            }
            (type, size) = (GDT_Byte, 1)
        }
        CPLErrorReset()
        let rc = bytes.withUnsafeMutableBytes { b in
            GDALDatasetRasterIOEx(ds, GF_Write, 0, Int32(rows.lowerBound), Int32(width), Int32(n),
                                  quantized ? b.baseAddress! : raw, Int32(width), Int32(n), type,
                                  Int32(bands), &map, GSpacing(size), GSpacing(size * width), GSpacing(size * width * n), nil)
        }
        guard rc == CE_None else { throw DataError(path: path, object: "rows \(rows)", "write failed: \(Self.lastError)") }
    }

    /// Band 1's colour table (entry i = `colours[i]`, RGBA) and category names (value i = `names[i]`).
    public func setClasses(colours: [(UInt8, UInt8, UInt8, UInt8)], names: [String]) throws {
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
    public func finish(overviews resampling: String) throws {
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
        var done = tmp, doneAux = tmpAux
        if cog {
            defer { unlink(tmp); unlink(tmpAux) }
            try copyToCOG(resampling: resampling)
            (done, doneAux) = (cogTmp, cogTmp + ".aux.xml")
        }
        // A sidecar left by an earlier file at `path` would describe the wrong raster.
        unlink(aux)
        guard rename(done, path) == 0 else {
            let m = String(cString: strerror(errno))
            unlink(done)
            unlink(doneAux)
            throw DataError(path: path, "cannot rename \(done) into place: \(m)")
        }
        if FileManager.default.fileExists(atPath: doneAux), rename(doneAux, aux) != 0 {
            throw DataError(path: aux, "cannot rename \(doneAux) into place: \(String(cString: strerror(errno)))")
        }
    }

    /// Copies the finished tiled file through GDAL's COG driver to `cogTmp`, reusing its
    /// overviews: the COG driver lays out the header, overviews (smallest first) and tiles so a
    /// reader needs a few ranged requests. Class names travel in the copy's PAM sidecar.
    private func copyToCOG(resampling: String) throws {
        guard let driver = GDALGetDriverByName("COG") else {
            throw DataError(path: path, "this GDAL (\(GDAL.version)) has no COG driver: write without --cog")
        }
        guard let src = GDALOpen(tmp, GA_ReadOnly) else { throw DataError(path: path, "cannot reopen \(tmp): \(Self.lastError)") }
        defer { GDALClose(src) }
        let isFloat = !quantized && (T.self == Float.self || T.self == Double.self)
        let opts = ["COMPRESS=DEFLATE", "PREDICTOR=\(isFloat ? "FLOATING_POINT" : "STANDARD")", "BLOCKSIZE=\(tileSize)",
                    "OVERVIEWS=FORCE_USE_EXISTING", "OVERVIEW_RESAMPLING=\(resampling)", "BIGTIFF=IF_SAFER"]
        var ptrs: [UnsafeMutablePointer<CChar>?] = opts.map { strdup($0) } + [nil]
        defer { for p in ptrs { free(p) } }
        CPLErrorReset()
        guard let out = GDALCreateCopy(driver, cogTmp, src, 0, &ptrs, nil, nil) else {
            let m = Self.lastError
            unlink(cogTmp)
            unlink(cogTmp + ".aux.xml")
            throw DataError(path: path, "cannot write the COG: \(m)")
        }
        CPLErrorReset()
        GDALClose(out)
        guard CPLGetLastErrorType() != CE_Failure, CPLGetLastErrorType() != CE_Fatal else {
            let m = Self.lastError
            unlink(cogTmp)
            unlink(cogTmp + ".aux.xml")
            throw DataError(path: path, "writing the COG failed on close: \(m)")
        }
    }

    public static var lastError: String {
        guard let m = CPLGetLastErrorMsg(), m.pointee != 0 else { return "unknown GDAL error" }
        return String(cString: m)
    }
}
