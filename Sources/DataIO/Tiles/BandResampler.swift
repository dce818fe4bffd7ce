import Foundation

/// Where the target grid's pixels fall on one band's own grid, along one axis: target pixel
/// k's centre is at source pixel coordinate u = a·(k + ½) + b.
struct AxisMap {
    let a: Double
    let b: Double
    let sourceSize: Int

    init(target t0: Double, _ tStep: Double, source s0: Double, _ sStep: Double, sourceSize: Int) {
        a = tStep / sStep
        b = (t0 - s0) / sStep
        self.sourceSize = sourceSize
    }

    /// Same pixel size and a whole-pixel offset: the window is a plain read.
    var integerOffset: Int? {
        guard abs(a - 1) < 1e-9 else { return nil }
        let r = b.rounded()
        return abs(b - r) < 1e-6 ? Int(r) : nil
    }

    /// Source pixel coordinate of target pixel k's centre.
    @inline(__always) func center(_ k: Int) -> Double { a * (Double(k) + 0.5) + b }
}

/// Per target column (or row) of a window: the nearest source pixel and the two bilinear
/// neighbours with the weight of the second, relative to the source rectangle read.
struct AxisSamples {
    /// Nearest source index (−1 where the centre is outside the source raster).
    var nearest: [Int]
    var lo: [Int]
    var hi: [Int]
    var frac: [Float]
    /// Source range read: [start, end).
    var start = 0
    var end = 0

    init(_ m: AxisMap, from k0: Int, count: Int, bilinear: Bool) {
        nearest = [Int](repeating: -1, count: count)
        lo = [Int](repeating: 0, count: count)
        hi = [Int](repeating: 0, count: count)
        frac = [Float](repeating: 0, count: count)
        var mn = Int.max, mx = Int.min
        let last = m.sourceSize - 1
        for i in 0..<count {
            let u = m.center(k0 + i)
            let n = Int((u + 1e-9).rounded(.down))
            guard n >= 0, n <= last else { continue }
            nearest[i] = n
            mn = min(mn, n); mx = max(mx, n)
            if bilinear {
                let s = u - 0.5
                let f = s.rounded(.down)
                lo[i] = min(max(Int(f), 0), last)
                hi[i] = min(max(Int(f) + 1, 0), last)
                frac[i] = Float(s - f)
                mn = min(mn, lo[i]); mx = max(mx, hi[i])
            }
        }
        if mn <= mx {
            start = mn
            end = mx + 1
            for i in 0..<count where nearest[i] >= 0 {
                nearest[i] -= start; lo[i] -= start; hi[i] -= start
            }
        }
    }

    var isEmpty: Bool { end <= start }
}

/// Reads one band of one file onto an S×S window of the target grid: a plain read when the
/// band is on the target grid, else its source rectangle read at its own resolution and
/// resampled (nearest or bilinear). Pixels off the source raster come out NaN.
enum BandResampler {
    static func read(_ src: BandSource, raster: Raster, onto grid: GeoGrid, x: Int, y: Int, size s: Int,
                     resampling: TileOptions.Resampling, into dst: UnsafeMutablePointer<Float>,
                     scratch: inout [Float]) throws {
        let g = src.grid
        let mx = AxisMap(target: grid.originX, grid.pixelWidth, source: g.originX, g.pixelWidth, sourceSize: g.width)
        let my = AxisMap(target: grid.originY, grid.pixelHeight, source: g.originY, g.pixelHeight, sourceSize: g.height)
        dst.update(repeating: .nan, count: s * s)
        if let ox = mx.integerOffset, let oy = my.integerOffset {
            // Plain read of the part of the window on the raster, straight into place.
            let r = PixelRect(x0: x + ox, y0: y + oy, x1: x + ox + s, y1: y + oy + s)
                .intersection(PixelRect(x0: 0, y0: 0, x1: g.width, y1: g.height))
            guard !r.isEmpty else { return }
            let at = dst + (r.y0 - y - oy) * s + (r.x0 - x - ox)
            try raster.read(x: r.x0, y: r.y0, width: r.width, height: r.height, bands: [src.band],
                            into: at, lineStride: s, bandStride: s * s)
            return
        }
        let bilinear = resampling == .bilinear
        let cols = AxisSamples(mx, from: x, count: s, bilinear: bilinear)
        let rows = AxisSamples(my, from: y, count: s, bilinear: bilinear)
        guard !cols.isEmpty, !rows.isEmpty else { return }
        let rw = cols.end - cols.start, rh = rows.end - rows.start
        if scratch.count < rw * rh { scratch = [Float](repeating: 0, count: rw * rh) }
        try scratch.withUnsafeMutableBufferPointer { buf in
            let p = buf.baseAddress!
            try raster.read(x: cols.start, y: rows.start, width: rw, height: rh, bands: [src.band],
                            into: p, lineStride: rw, bandStride: rw * rh)
            let nd = src.noData.map { Float($0) }
            @inline(__always) func valid(_ v: Float) -> Bool { !v.isNaN && v != nd }
            for r in 0..<s {
                let nr = rows.nearest[r]
                guard nr >= 0 else { continue }
                let out = dst + r * s
                if !bilinear {
                    let line = p + nr * rw
                    for c in 0..<s where cols.nearest[c] >= 0 { out[c] = line[cols.nearest[c]] }
                    continue
                }
                let l0 = p + rows.lo[r] * rw, l1 = p + rows.hi[r] * rw, fy = rows.frac[r]
                for c in 0..<s {
                    let nc = cols.nearest[c]
                    guard nc >= 0 else { continue }
                    let near = p[nr * rw + nc]
                    // NODATA exactly where the pixel under the centre is NODATA.
                    guard valid(near) else { out[c] = near; continue }
                    let fx = cols.frac[c], c0 = cols.lo[c], c1 = cols.hi[c]
                    let v = (l0[c0], l0[c1], l1[c0], l1[c1])
                    let w = ((1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy)
                    var sum: Float = 0, wsum: Float = 0
                    if valid(v.0) { sum += w.0 * v.0; wsum += w.0 }
                    if valid(v.1) { sum += w.1 * v.1; wsum += w.1 }
                    if valid(v.2) { sum += w.2 * v.2; wsum += w.2 }
                    if valid(v.3) { sum += w.3 * v.3; wsum += w.3 }
                    out[c] = wsum > 0 ? sum / wsum : near
                }
            }
        }
    }
}
