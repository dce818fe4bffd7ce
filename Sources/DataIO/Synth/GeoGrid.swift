import CGDAL
import Foundation

/// A north-up raster grid in a projected CRS: upper-left corner, square pixels of `resolution`
/// metres, `width` × `height` pixels.
public struct GeoGrid: Sendable, Equatable {
    public var epsg: Int
    public var originX: Double
    public var originY: Double
    public var resolution: Double
    public var width: Int
    public var height: Int

    public init(epsg: Int, originX: Double, originY: Double, resolution: Double, width: Int, height: Int) {
        self.epsg = epsg
        self.originX = originX
        self.originY = originY
        self.resolution = resolution
        self.width = width
        self.height = height
    }

    /// GDAL's six coefficients.
    public var geoTransform: [Double] { [originX, resolution, 0, originY, 0, -resolution] }

    /// "EPSG:32632".
    public var projection: String { "EPSG:\(epsg)" }

    /// Map coordinates of the centre of pixel (col, row).
    @inline(__always)
    public func centre(_ col: Int, _ row: Int) -> (x: Double, y: Double) {
        (originX + (Double(col) + 0.5) * resolution, originY - (Double(row) + 0.5) * resolution)
    }

    /// The same footprint with pixels `factor` times larger (Sentinel-2's 20 m bands).
    public func coarsened(by factor: Int) -> GeoGrid {
        GeoGrid(epsg: epsg, originX: originX, originY: originY, resolution: resolution * Double(factor),
                width: width / factor, height: height / factor)
    }

    /// WGS 84 / UTM zone `zone` north.
    public static func utmNorth(zone: Int) -> Int { 32600 + zone }

    /// ETRS89-extended / LAEA Europe, the CRS of CORINE Land Cover.
    public static let laeaEurope = 3035
}

/// A PROJ coordinate transformation between two EPSG CRSs, x = easting and y = northing on both
/// sides (GIS order, whatever the authority's axis order: EPSG:3035 is northing first).
final class CoordinateTransform {
    private let src: OGRSpatialReferenceH
    private let dst: OGRSpatialReferenceH
    private let ct: OGRCoordinateTransformationH

    init(from: Int, to: Int) throws {
        _ = GDAL.registered
        guard let s = OSRNewSpatialReference(nil), let d = OSRNewSpatialReference(nil) else {
            throw DataError(path: "EPSG:\(from)", "cannot make spatial references")
        }
        src = s
        dst = d
        for (h, code) in [(s, from), (d, to)] {
            guard GDAL.quietly({ OSRImportFromEPSG(h, Int32(code)) }) == OGRERR_NONE else {
                OSRDestroySpatialReference(s); OSRDestroySpatialReference(d)
                throw DataError(path: "EPSG:\(code)", "unknown CRS: \(GDAL.lastError)")
            }
            OSRSetAxisMappingStrategy(h, OAMS_TRADITIONAL_GIS_ORDER)
        }
        guard let t = GDAL.quietly({ OCTNewCoordinateTransformation(s, d) }) else {
            OSRDestroySpatialReference(s); OSRDestroySpatialReference(d)
            throw DataError(path: "EPSG:\(from)", "no transformation to EPSG:\(to): \(GDAL.lastError)")
        }
        ct = t
    }

    deinit {
        OCTDestroyCoordinateTransformation(ct)
        OSRDestroySpatialReference(src)
        OSRDestroySpatialReference(dst)
    }

    /// Transforms the points in place.
    func transform(_ xs: inout [Double], _ ys: inout [Double]) throws {
        precondition(xs.count == ys.count)
        guard !xs.isEmpty else { return }
        var ok = [Int32](repeating: 0, count: xs.count)
        let rc = GDAL.quietly {
            OCTTransformEx(ct, Int32(xs.count), &xs, &ys, nil, &ok)
        }
        guard rc != 0, !ok.contains(0) else {
            throw DataError(path: "coordinate transformation", "some points could not be transformed: \(GDAL.lastError)")
        }
    }
}
