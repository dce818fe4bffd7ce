import CGDAL
import Foundation

extension Raster {
    /// A class raster's category names and colour table (band 1; "#rrggbb" texts), each padded or
    /// cut to `classes` entries; nil where the file has none or cannot be opened.
    public static func categories(_ path: String, classes: Int) -> (names: [String]?, colors: [String]?) {
        GDALAllRegister()
        CPLPushErrorHandler(CPLQuietErrorHandler)
        defer { CPLPopErrorHandler() }
        guard let ds = GDALOpenEx(path, UInt32(GDAL_OF_RASTER | GDAL_OF_READONLY), nil, nil, nil) else { return (nil, nil) }
        defer { GDALClose(ds) }
        // GTiff loads its .aux.xml side file lazily, on the first georeferencing or metadata
        // query; the band's category calls alone do not trigger it.
        var gt = [Double](repeating: 0, count: 6)
        _ = GDALGetGeoTransform(ds, &gt)
        _ = GDALGetMetadata(ds, nil)
        guard let band = GDALGetRasterBand(ds, 1) else { return (nil, nil) }
        var names: [String]?
        if let list = GDALGetRasterCategoryNames(band) {
            var n: [String] = []
            var i = 0
            while let s = list[i], n.count < classes { n.append(String(cString: s)); i += 1 }
            if !n.isEmpty {
                names = n + Array(repeating: "", count: classes - n.count)
            }
        }
        var colors: [String]?
        if let table = GDALGetRasterColorTable(band) {
            let n = Int(GDALGetColorEntryCount(table))
            colors = (0..<classes).map { c in
                guard c < n, let e = GDALGetColorEntry(table, Int32(c)) else { return "" }
                return String(format: "#%02x%02x%02x", Int(e.pointee.c1), Int(e.pointee.c2), Int(e.pointee.c3))
            }
        }
        return (names, colors)
    }
}
