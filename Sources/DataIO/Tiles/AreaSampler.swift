import Foundation

/// Brings a raster on its own grid and CRS (a label or target raster) onto an S×S window of
/// the target grid by area: each target pixel's footprint (its corners taken into the
/// raster's pixel coordinates; the bounding box of the four) is cut by the raster's pixels,
/// and each cut weighs its area. Class proportions are the weighted average of the one-hot
/// classes, majority classes the heaviest class, targets the weighted mean — NODATA cuts left
/// out. When the raster is on the target grid itself (same CRS, same pixel size, whole-pixel
/// offset) every pixel is read as it is.
final class AreaSampler {
    let info: RasterInfo
    private let grid: GeoGrid
    private let transform: CoordinateTransform?
    /// Whole-pixel offset when the raster is on the target grid.
    private let offset: (x: Int, y: Int)?

    /// Lattice spacing (target pixels) at which corners are transformed exactly across CRSs;
    /// corners in between are interpolated bilinearly (as GDAL's approximate transformer).
    static let latticeStep = 8

    init(_ info: RasterInfo, grid: GeoGrid, imageCRS: String, imagePath: String) throws {
        self.info = info
        self.grid = grid
        let own = try SpatialReference(wkt: info.crs, path: info.path)
        let image = try SpatialReference(wkt: imageCRS, path: imagePath)
        if own.isSame(image) {
            transform = nil
            let mx = AxisMap(target: grid.originX, grid.pixelWidth, source: info.grid.originX, info.grid.pixelWidth, sourceSize: info.grid.width)
            let my = AxisMap(target: grid.originY, grid.pixelHeight, source: info.grid.originY, info.grid.pixelHeight, sourceSize: info.grid.height)
            if let ox = mx.integerOffset, let oy = my.integerOffset { offset = (ox, oy) } else { offset = nil }
        } else {
            transform = try CoordinateTransform(from: image, to: own, path: info.path)
            offset = nil
        }
    }

    /// The cuts of one window: for target pixel p, entries `start[p]..<start[p+1]` of `index`
    /// (into the `rect` read, row-major) and `weight`.
    struct Cover {
        var rect = PixelRect(x0: 0, y0: 0, x1: 0, y1: 0)
        var start: [Int] = []
        var index: [Int32] = []
        var weight: [Double] = []
    }

    /// Computes the window's cover and reads `bands` of the raster over it as Double
    /// (C×rect). Returns false when the window misses the raster.
    func load(x: Int, y: Int, size s: Int, bands: [Int], cover: inout Cover, values: inout [Double], raster: Raster) throws -> Bool {
        let n = s * s
        cover.start = [Int](repeating: 0, count: n + 1)
        cover.index.removeAll(keepingCapacity: true)
        cover.weight.removeAll(keepingCapacity: true)
        let lg = info.grid
        let full = PixelRect(x0: 0, y0: 0, x1: lg.width, y1: lg.height)
        if let off = offset {
            let r = PixelRect(x0: x + off.x, y0: y + off.y, x1: x + off.x + s, y1: y + off.y + s).intersection(full)
            guard !r.isEmpty else { return false }
            cover.rect = r
            for p in 0..<n {
                let (yy, xx) = (p / s + y + off.y, p % s + x + off.x)
                if yy >= r.y0, yy < r.y1, xx >= r.x0, xx < r.x1 {
                    cover.index.append(Int32((yy - r.y0) * r.width + (xx - r.x0)))
                    cover.weight.append(1)
                }
                cover.start[p + 1] = cover.index.count
            }
        } else {
            let (us, vs) = corners(x: x, y: y, size: s)
            guard let b = Bounds(points: us, vs) else { return false }
            let r = PixelRect(x0: Int(b.minX.rounded(.down)), y0: Int(b.minY.rounded(.down)),
                              x1: Int(b.maxX.rounded(.up)), y1: Int(b.maxY.rounded(.up))).intersection(full)
            guard !r.isEmpty else { return false }
            cover.rect = r
            let s1 = s + 1
            for p in 0..<n {
                let (row, col) = (p / s, p % s)
                let k = row * s1 + col
                let cu = (us[k], us[k + 1], us[k + s1], us[k + s1 + 1])
                let cv = (vs[k], vs[k + 1], vs[k + s1], vs[k + s1 + 1])
                let u0 = min(cu.0, cu.1, cu.2, cu.3), u1 = max(cu.0, cu.1, cu.2, cu.3)
                let v0 = min(cv.0, cv.1, cv.2, cv.3), v1 = max(cv.0, cv.1, cv.2, cv.3)
                if u0.isFinite, u1.isFinite, v0.isFinite, v1.isFinite {
                    let j0 = max(Int(v0.rounded(.down)), r.y0), j1 = min(Int(v1.rounded(.up)), r.y1)
                    let i0 = max(Int(u0.rounded(.down)), r.x0), i1 = min(Int(u1.rounded(.up)), r.x1)
                    if j0 < j1, i0 < i1 {
                        for j in j0..<j1 {
                            let wy = min(v1, Double(j + 1)) - max(v0, Double(j))
                            guard wy > 0 else { continue }
                            for i in i0..<i1 {
                                let wx = min(u1, Double(i + 1)) - max(u0, Double(i))
                                guard wx > 0 else { continue }
                                cover.index.append(Int32((j - r.y0) * r.width + (i - r.x0)))
                                cover.weight.append(wx * wy)
                            }
                        }
                    }
                }
                cover.start[p + 1] = cover.index.count
            }
        }
        let rect = cover.rect, count = rect.width * rect.height * bands.count
        if values.count < count { values = [Double](repeating: 0, count: count) }
        try values.withUnsafeMutableBufferPointer {
            try raster.read(x: rect.x0, y: rect.y0, width: rect.width, height: rect.height, bands: bands,
                            into: $0.baseAddress!, lineStride: rect.width, bandStride: rect.width * rect.height)
        }
        return true
    }

    /// The (S+1)² pixel corners of the window in the raster's pixel coordinates (NaN where
    /// the transformation fails).
    private func corners(x: Int, y: Int, size s: Int) -> ([Double], [Double]) {
        let s1 = s + 1
        var us = [Double](repeating: 0, count: s1 * s1), vs = us
        let lg = info.grid
        guard let transform else {
            for j in 0...s {
                for i in 0...s {
                    let g = grid.geo(col: Double(x + i), row: Double(y + j))
                    let p = lg.pixel(x: g.x, y: g.y)
                    us[j * s1 + i] = p.col
                    vs[j * s1 + i] = p.row
                }
            }
            return (us, vs)
        }
        // Exact at the lattice nodes, bilinear in between.
        let step = Self.latticeStep
        var nodes = Array(stride(from: 0, through: s, by: step))
        if nodes.last != s { nodes.append(s) }
        let m = nodes.count
        var xs = [Double](), ys = [Double]()
        xs.reserveCapacity(m * m); ys.reserveCapacity(m * m)
        for j in nodes { for i in nodes {
            let g = grid.geo(col: Double(x + i), row: Double(y + j))
            xs.append(g.x); ys.append(g.y)
        } }
        transform.transform(&xs, &ys)
        for k in 0..<(m * m) where xs[k].isFinite {
            let p = lg.pixel(x: xs[k], y: ys[k])
            xs[k] = p.col
            ys[k] = p.row
        }
        var cell = [Int](repeating: 0, count: s1)
        var c = 0
        for i in 0...s {
            while c + 1 < m - 1 && nodes[c + 1] <= i { c += 1 }
            cell[i] = c
        }
        for j in 0...s {
            let cj = cell[j], ty = Double(j - nodes[cj]) / Double(nodes[cj + 1] - nodes[cj])
            for i in 0...s {
                let ci = cell[i], tx = Double(i - nodes[ci]) / Double(nodes[ci + 1] - nodes[ci])
                let a = cj * m + ci, b = a + 1, cc = a + m, d = cc + 1
                us[j * s1 + i] = (1 - ty) * ((1 - tx) * xs[a] + tx * xs[b]) + ty * ((1 - tx) * xs[cc] + tx * xs[d])
                vs[j * s1 + i] = (1 - ty) * ((1 - tx) * ys[a] + tx * ys[b]) + ty * ((1 - tx) * ys[cc] + tx * ys[d])
            }
        }
        return (us, vs)
    }
}
