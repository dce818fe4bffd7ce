import CGDAL
import Foundation

/// A north-up raster grid in a projected CRS: upper-left corner, square pixels of `resolution`
/// metres, `width` × `height` pixels.
public struct ProjectedGrid: Sendable, Equatable {
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
    public func coarsened(by factor: Int) -> ProjectedGrid {
        ProjectedGrid(epsg: epsg, originX: originX, originY: originY, resolution: resolution * Double(factor),
                width: width / factor, height: height / factor)
    }

    /// WGS 84 / UTM zone `zone` north.
    public static func utmNorth(zone: Int) -> Int { 32600 + zone }

    /// ETRS89-extended / LAEA Europe, the CRS of CORINE Land Cover.
    public static let laeaEurope = 3035
}
