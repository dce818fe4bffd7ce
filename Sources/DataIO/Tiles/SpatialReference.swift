import CGDAL

/// A coordinate reference system parsed by GDAL/OSR, with x = easting (longitude) and
/// y = northing (latitude) whatever the CRS's axis order. Not thread-safe: one per thread.
final class SpatialReference {
    let handle: OGRSpatialReferenceH
    let wkt: String

    /// Parses `wkt` (from a raster); throws a `DataError` naming `path` when it is empty or
    /// GDAL cannot make sense of it.
    init(wkt: String, path: String) throws {
        _ = GDAL.registered
        guard !wkt.isEmpty else {
            throw DataError(path: path, "has no coordinate reference system (unknown CRS): set one, e.g. gdal_edit.py -a_srs EPSG:32633")
        }
        guard let h = OSRNewSpatialReference(nil) else { throw DataError(path: path, "cannot make a spatial reference") }
        guard GDAL.quietly({ OSRSetFromUserInput(h, wkt) }) == OGRERR_NONE else {
            OSRDestroySpatialReference(h)
            throw DataError(path: path, "unknown coordinate reference system: \(wkt.prefix(120))")
        }
        OSRSetAxisMappingStrategy(h, OAMS_TRADITIONAL_GIS_ORDER)
        handle = h
        self.wkt = wkt
    }

    deinit { OSRDestroySpatialReference(handle) }

    func isSame(_ o: SpatialReference) -> Bool { OSRIsSame(handle, o.handle) != 0 }

    /// "EPSG:32725" or the CRS's name, for messages.
    var name: String {
        if let a = OSRGetAuthorityName(handle, nil), let c = OSRGetAuthorityCode(handle, nil) {
            return "\(String(cString: a)):\(String(cString: c))"
        }
        if let n = OSRGetName(handle) { return String(cString: n) }
        return "unnamed CRS"
    }
}

/// Transforms points from one CRS to another (PROJ through OSR). Not thread-safe.
final class CoordinateTransform {
    private let handle: OGRCoordinateTransformationH

    /// Throws a `DataError` naming `path` (the file in the target CRS) when GDAL finds no
    /// transformation between the two.
    init(from src: SpatialReference, to dst: SpatialReference, path: String) throws {
        let h: OGRCoordinateTransformationH? = GDAL.quietly { OCTNewCoordinateTransformation(src.handle, dst.handle) }
        guard let h else {
            throw DataError(path: path, "cannot transform coordinates from \(src.name) to its CRS \(dst.name): \(GDAL.lastError)")
        }
        handle = h
    }

    deinit { OCTDestroyCoordinateTransformation(handle) }

    /// Transforms the points in place; points that fail become NaN.
    func transform(_ xs: inout [Double], _ ys: inout [Double]) {
        let n = xs.count
        guard n > 0 else { return }
        var ok = [Int32](repeating: 0, count: n)
        var zs = [Double](repeating: 0, count: n)
        _ = GDAL.quietly { OCTTransformEx(handle, Int32(n), &xs, &ys, &zs, &ok) }
        for i in 0..<n where ok[i] == 0 || !xs[i].isFinite || !ys[i].isFinite {
            xs[i] = .nan
            ys[i] = .nan
        }
    }
}

extension CoordinateTransform {
    /// Between two EPSG codes (synthetic grids), x = easting and y = northing on both sides.
    convenience init(epsg from: Int, to: Int) throws {
        try self.init(from: SpatialReference(wkt: "EPSG:\(from)", path: "EPSG:\(from)"),
                      to: SpatialReference(wkt: "EPSG:\(to)", path: "EPSG:\(to)"), path: "EPSG:\(to)")
    }

    /// Transforms the points in place; throws if any cannot be transformed.
    func transformAll(_ xs: inout [Double], _ ys: inout [Double]) throws {
        transform(&xs, &ys)
        if xs.contains(where: \.isNaN) {
            throw DataError(path: "coordinate transformation", "some points could not be transformed: \(GDAL.lastError)")
        }
    }
}
