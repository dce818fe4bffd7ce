import Foundation

/// An axis-aligned rectangle in a CRS's coordinates (metres for UTM).
public struct Bounds: Sendable, Equatable, CustomStringConvertible {
    public var minX: Double
    public var minY: Double
    public var maxX: Double
    public var maxY: Double

    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        (self.minX, self.minY, self.maxX, self.maxY) = (minX, minY, maxX, maxY)
    }

    /// The smallest bounds holding every finite point (nil when there is none).
    init?(points xs: [Double], _ ys: [Double]) {
        var b = Bounds(minX: .infinity, minY: .infinity, maxX: -.infinity, maxY: -.infinity)
        for (x, y) in zip(xs, ys) where x.isFinite && y.isFinite {
            b.minX = min(b.minX, x); b.maxX = max(b.maxX, x)
            b.minY = min(b.minY, y); b.maxY = max(b.maxY, y)
        }
        guard b.minX <= b.maxX, b.minY <= b.maxY else { return nil }
        self = b
    }

    public var width: Double { maxX - minX }
    public var height: Double { maxY - minY }
    /// True when the rectangle has no area.
    public var isEmpty: Bool { !(maxX > minX && maxY > minY) }

    public func intersection(_ o: Bounds) -> Bounds {
        Bounds(minX: max(minX, o.minX), minY: max(minY, o.minY), maxX: min(maxX, o.maxX), maxY: min(maxY, o.maxY))
    }

    /// True when each edge is within `tolerance` of `o`'s.
    func matches(_ o: Bounds, tolerance: Double) -> Bool {
        abs(minX - o.minX) <= tolerance && abs(maxX - o.maxX) <= tolerance
            && abs(minY - o.minY) <= tolerance && abs(maxY - o.maxY) <= tolerance
    }

    public var description: String {
        func f(_ v: Double) -> String { String(format: "%.3f", v) }
        return "[\(f(minX)), \(f(minY)) – \(f(maxX)), \(f(maxY))]"
    }
}

/// A north-up pixel grid: pixel (col, row) covers [col, col+1) × [row, row+1) in pixel
/// coordinates, whose corner (0, 0) is the grid's origin. `pixelHeight` is negative for the
/// usual north-up raster (rows run south).
public struct GeoGrid: Sendable, Equatable, CustomStringConvertible {
    public var originX: Double
    public var originY: Double
    public var pixelWidth: Double
    public var pixelHeight: Double
    public var width: Int
    public var height: Int

    public init(originX: Double, originY: Double, pixelWidth: Double, pixelHeight: Double, width: Int, height: Int) {
        self.originX = originX
        self.originY = originY
        self.pixelWidth = pixelWidth
        self.pixelHeight = pixelHeight
        self.width = width
        self.height = height
    }

    /// The grid of a raster with GDAL geotransform `gt`; nil when `gt` is rotated or degenerate.
    init?(geoTransform gt: [Double], width: Int, height: Int) {
        guard gt.count == 6, gt[2] == 0, gt[4] == 0, gt[1] != 0, gt[5] != 0, gt.allSatisfy(\.isFinite) else { return nil }
        self.init(originX: gt[0], originY: gt[3], pixelWidth: gt[1], pixelHeight: gt[5], width: width, height: height)
    }

    /// GDAL's six coefficients.
    public var geoTransform: [Double] { [originX, pixelWidth, 0, originY, 0, pixelHeight] }

    /// Ground size of a pixel along x (positive).
    public var resolution: Double { abs(pixelWidth) }

    public var bounds: Bounds {
        let x1 = originX + Double(width) * pixelWidth, y1 = originY + Double(height) * pixelHeight
        return Bounds(minX: min(originX, x1), minY: min(originY, y1), maxX: max(originX, x1), maxY: max(originY, y1))
    }

    /// CRS coordinates of the pixel coordinate (col, row) (a corner at integers).
    @inline(__always)
    public func geo(col: Double, row: Double) -> (x: Double, y: Double) {
        (originX + col * pixelWidth, originY + row * pixelHeight)
    }

    /// Pixel coordinates of a CRS point.
    @inline(__always)
    public func pixel(x: Double, y: Double) -> (col: Double, row: Double) {
        ((x - originX) / pixelWidth, (y - originY) / pixelHeight)
    }

    /// The same footprint at another pixel size (signs kept), rounded to whole pixels.
    public func resampled(to resolution: Double) -> GeoGrid {
        let sx = pixelWidth < 0 ? -resolution : resolution, sy = pixelHeight < 0 ? -resolution : resolution
        let w = max(1, Int((Double(width) * pixelWidth / sx).rounded()))
        let h = max(1, Int((Double(height) * pixelHeight / sy).rounded()))
        return GeoGrid(originX: originX, originY: originY, pixelWidth: sx, pixelHeight: sy, width: w, height: h)
    }

    /// The pixel rectangle (x0, y0, x1, y1), clamped to the grid, holding every pixel that
    /// touches `b` (nil when none does).
    func pixelRect(covering b: Bounds) -> PixelRect? {
        let p0 = pixel(x: b.minX, y: b.minY), p1 = pixel(x: b.maxX, y: b.maxY)
        let eps = 1e-6
        let x0 = max(0, Int((min(p0.col, p1.col) + eps).rounded(.down)))
        let x1 = min(width, Int((max(p0.col, p1.col) - eps).rounded(.up)))
        let y0 = max(0, Int((min(p0.row, p1.row) + eps).rounded(.down)))
        let y1 = min(height, Int((max(p0.row, p1.row) - eps).rounded(.up)))
        guard x1 > x0, y1 > y0 else { return nil }
        return PixelRect(x0: x0, y0: y0, x1: x1, y1: y1)
    }

    public var description: String {
        "\(width)×\(height) px of \(pixelWidth)×\(-pixelHeight) from (\(originX), \(originY))"
    }
}

/// A half-open rectangle of pixels [x0, x1) × [y0, y1).
public struct PixelRect: Sendable, Equatable, Hashable {
    public var x0: Int, y0: Int, x1: Int, y1: Int
    public init(x0: Int, y0: Int, x1: Int, y1: Int) { (self.x0, self.y0, self.x1, self.y1) = (x0, y0, x1, y1) }
    public var width: Int { x1 - x0 }
    public var height: Int { y1 - y0 }
    public var isEmpty: Bool { x1 <= x0 || y1 <= y0 }
    public func intersection(_ o: PixelRect) -> PixelRect {
        PixelRect(x0: max(x0, o.x0), y0: max(y0, o.y0), x1: min(x1, o.x1), y1: min(y1, o.y1))
    }
}
