/// Where a tile has no data, as in real products: the edge of the satellite's swath (or of a
/// Landsat scene's tilted footprint) cutting across a corner of the tile, the same on every
/// date, and gaps (lost packets: a band of missing lines) on some dates. `true` = NODATA.
enum NoDataMask {
    /// Pixels beyond a straight edge across one corner: 2–8 % of the tile.
    static func swathEdge(width: Int, height: Int, key: UInt64) -> [Bool] {
        var mask = [Bool](repeating: false, count: width * height)
        let u = { (n: Int64) in Double(Noise.unit(Noise.hash(key, 61, n))) }
        let area = (0.02 + 0.06 * u(1)) * Double(width * height)
        let ratio = 0.5 + 1.5 * u(2)                      // leg along x / leg along y
        let a = min((2 * area * ratio).squareRoot(), Double(width))   // leg along x, pixels
        let b = min(2 * area / a, Double(height))                      // leg along y
        let corner = Int(Noise.hash(key, 61, 3) % 4)
        for row in 0..<height {
            for col in 0..<width {
                // Distances from the chosen corner, in pixels.
                let dx = Double(corner & 1 == 0 ? col : width - 1 - col) + 0.5
                let dy = Double(corner & 2 == 0 ? row : height - 1 - row) + 0.5
                if dx / a + dy / b < 1 { mask[row * width + col] = true }
            }
        }
        return mask
    }

    /// On about a third of the dates, a band of 3–14 missing lines across part of the tile.
    static func addGaps(_ mask: inout [Bool], width: Int, height: Int, key: UInt64) {
        guard Noise.unit(Noise.hash(key, 62, 0)) < 0.35, height > 4 else { return }
        let rows = 3 + Int(Noise.hash(key, 62, 1) % 12)
        let top = Int(Noise.hash(key, 62, 2) % UInt64(max(height - rows, 1)))
        let start = Int(Noise.hash(key, 62, 3) % UInt64(max(width / 2, 1)))
        for row in top..<min(top + rows, height) {
            for col in start..<width { mask[row * width + col] = true }
        }
    }

    /// A coarser mask (`factor` × `factor` blocks): NODATA where any fine pixel is.
    static func coarsened(_ mask: [Bool], width: Int, height: Int, by factor: Int) -> [Bool] {
        let w = width / factor, h = height / factor
        var out = [Bool](repeating: false, count: w * h)
        for r in 0..<h {
            for c in 0..<w {
                var any = false
                for dy in 0..<factor { for dx in 0..<factor where mask[(r * factor + dy) * width + c * factor + dx] { any = true } }
                out[r * w + c] = any
            }
        }
        return out
    }
}
