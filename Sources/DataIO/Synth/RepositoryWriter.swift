import CGDAL
import Foundation

/// Writing the pieces of a tile repository (docs/data.md): image rasters as the real products
/// store them (UInt16 digital numbers, NODATA 0, the scale and offset to reflectance in the
/// band metadata), label rasters (UInt8, NODATA 0, class names and colours), `shard.json`.
enum RepositoryWriter {
    /// How a sensor's digital numbers map to reflectance: reflectance = dn × scale + offset.
    struct Encoding: Sendable {
        let scale: Double
        let offset: Double
        /// Sentinel-2 L2A (processing baselines before 04.00): reflectance × 10000.
        static let sentinel2 = Encoding(scale: 1e-4, offset: 0)
        /// Landsat Collection 2 Level-2 surface reflectance.
        static let landsat = Encoding(scale: 2.75e-5, offset: -0.2)

        /// Digital number of `reflectance`, 1...65535 (0 is NODATA).
        @inline(__always)
        func dn(_ reflectance: Float) -> UInt16 {
            let v = ((Double(reflectance) - offset) / scale).rounded()
            return UInt16(min(max(v, 1), 65535))
        }
    }

    /// GeoTIFF block size for a raster: 256, or the raster's size rounded up to 16 when smaller.
    static func blockSize(_ width: Int, _ height: Int) -> Int {
        min(256, (max(width, height) + 15) / 16 * 16)
    }

    /// Writes `bands` × grid reflectances (`values`, C×H×W) as UInt16 DNs with NODATA 0 where
    /// `noData` (H×W, shared by all bands) is set.
    static func writeImage(_ path: String, grid: ProjectedGrid, values: [Float], bandIndices: [Int], bandCount: Int,
                           noData: [Bool], encoding: Encoding, descriptions: [String], metadata: [String: String]) throws {
        let n = grid.width * grid.height
        precondition(values.count == bandCount * n && noData.count == n)
        var dn = [UInt16](repeating: 0, count: bandIndices.count * n)
        for (k, b) in bandIndices.enumerated() {
            for i in 0..<n where !noData[i] { dn[k * n + i] = encoding.dn(values[b * n + i]) }
        }
        try write(path, grid: grid, bands: bandIndices.count, data: dn, noData: 0, descriptions: descriptions) { ds in
            for b in 1...bandIndices.count {
                let band = GDALGetRasterBand(ds, Int32(b))
                GDALSetRasterScale(band, encoding.scale)
                GDALSetRasterOffset(band, encoding.offset)
            }
            for (k, v) in metadata.sorted(by: { $0.key < $1.key }) { GDALSetMetadataItem(ds, k, v, nil) }
        }
    }

    /// Writes a class raster: UInt8, NODATA 0, the class names as GDAL categories and a colour
    /// table (so GIS tools show it as a map).
    static func writeLabel(_ path: String, grid: ProjectedGrid, labels: [UInt8], classes: [(value: UInt8, name: String)],
                           colours: [UInt8: (UInt8, UInt8, UInt8)], metadata: [String: String]) throws {
        try write(path, grid: grid, bands: 1, data: labels, noData: 0, descriptions: ["label"]) { ds in
            let band = GDALGetRasterBand(ds, 1)
            let maxValue = Int(classes.map(\.value).max() ?? 0)
            var names = [String](repeating: "", count: maxValue + 1)
            names[0] = "nodata"
            for c in classes { names[Int(c.value)] = c.name }
            _ = withCStrings(names) { GDALSetRasterCategoryNames(band, $0) }
            if let table = GDALCreateColorTable(GPI_RGB) {
                for v in 0...maxValue {
                    let (r, g, b) = colours[UInt8(v)] ?? (0, 0, 0)
                    var e = GDALColorEntry(c1: Int16(r), c2: Int16(g), c3: Int16(b), c4: v == 0 ? 0 : 255)
                    GDALSetColorEntry(table, Int32(v), &e)
                }
                GDALSetRasterColorTable(band, table)
                GDALDestroyColorTable(table)
            }
            for (k, v) in metadata.sorted(by: { $0.key < $1.key }) { GDALSetMetadataItem(ds, k, v, nil) }
        }
    }

    /// Writes through `GeoTIFF.write` (tiled, DEFLATE) to `path.part`, lets `edit` add metadata
    /// in update mode, then renames into place: the file appears complete or not at all.
    private static func write<T: RasterScalar>(_ path: String, grid: ProjectedGrid, bands: Int, data: [T], noData: Double,
                                               descriptions: [String], edit: (GDALDatasetH) -> Void) throws {
        let part = path + ".part"
        try GeoTIFF.write(part, width: grid.width, height: grid.height, bands: bands, data: data,
                          geoTransform: grid.geoTransform, projection: grid.projection, noData: noData,
                          bandDescriptions: descriptions, tileSize: blockSize(grid.width, grid.height))
        do {
            try GDAL.quietly {
                let flags = UInt32(GDAL_OF_RASTER | GDAL_OF_UPDATE)
                guard let ds = GDALOpenEx(part, flags, nil, nil, nil) else {
                    throw DataError(path: path, "cannot reopen to add metadata: \(GDAL.lastError)")
                }
                edit(ds)
                CPLErrorReset()
                GDALClose(ds)
                if CPLGetLastErrorType() == CE_Failure || CPLGetLastErrorType() == CE_Fatal {
                    throw DataError(path: path, "adding metadata failed: \(GDAL.lastError)")
                }
            }
            guard rename(part, path) == 0 else {
                throw DataError(path: path, "cannot rename \(part) into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(part)
            throw error
        }
    }

    /// `shard.json` as docs/data.md describes it.
    static func writeShardJSON(_ dir: String, sensor: String, bands: [(name: String, resolution: Int)],
                               classes: [(value: UInt8, name: String)]) throws {
        let b = bands.map { #"    {"name": "\#($0.name)", "resolution": \#($0.resolution)}"# }.joined(separator: ",\n")
        let c = classes.map { #"    {"value": \#($0.value), "name": "\#($0.name)"}"# }.joined(separator: ",\n")
        let text = "{\n  \"sensor\": \"\(sensor)\",\n  \"bands\": [\n\(b)\n  ],\n  \"classes\": [\n\(c)\n  ],\n  \"label_nodata\": 0\n}\n"
        try text.write(toFile: dir + "/shard.json", atomically: true, encoding: .utf8)
    }

    /// Colours of the land-cover classes (CORINE-like).
    static let colours: [UInt8: (UInt8, UInt8, UInt8)] = [
        ClassSpectra.water: (0, 110, 230), ClassSpectra.forest: (20, 110, 40), ClassSpectra.cropland: (240, 220, 100),
        ClassSpectra.grassland: (160, 215, 90), ClassSpectra.urban: (210, 40, 40), ClassSpectra.bareSoil: (150, 110, 70),
        ClassSpectra.sand: (235, 225, 190), ClassSpectra.shrubland: (170, 160, 60),
    ]
}
