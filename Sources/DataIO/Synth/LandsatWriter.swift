import Foundation

/// A Landsat 8/9 Collection 2 Level-2-like tile: one six-band 30 m `image.tif` per date (band
/// descriptions B2…B7 are the band names; UInt16 with Collection 2's scale 2.75e-5 and offset
/// −0.2; NODATA 0 beyond the scene's tilted footprint) in the region's UTM zone, and a
/// CORINE-like `label.tif`: 100 m, in ETRS89-LAEA Europe (EPSG:3035), each cell the majority
/// class of the ground it covers, over the whole image footprint.
enum LandsatWriter {
    /// Sub-samples per label cell edge: a 100 m cell takes the majority of 3 × 3 points.
    static let labelSubsamples = 3
    static let labelResolution = 100.0

    static func writeTile(_ region: Region, tile t: Int, dir: String, options: SynthOptions) throws -> TileResult {
        let spectra = ClassSpectra.landsat
        let origin = region.tileOrigins[t]
        let grid = ProjectedGrid(epsg: region.epsg, originX: origin.x, originY: origin.y, resolution: 30,
                           width: options.size, height: options.size)
        let (labelGrid, labels) = try corineLabel(region.landscape, under: grid)
        try RepositoryWriter.writeLabel(dir + "/label.tif", grid: labelGrid, labels: labels, classes: ClassSpectraTable.classes,
                                      colours: RepositoryWriter.colours, metadata: region.metadata())
        var counts = [Int](repeating: 0, count: ClassSpectra.classCount + 1)
        for v in labels { counts[Int(v)] += 1 }

        let map = ClassMap(region.landscape, grid: grid)
        var files = 1
        try region.renderDates(tile: t, dir: dir, grid: grid, map: map, spectra: spectra, options: options) { folder, date, values, mask in
            try RepositoryWriter.writeImage(folder + "/image.tif", grid: grid, values: values,
                                          bandIndices: Array(0..<spectra.bands.count), bandCount: spectra.bands.count,
                                          noData: mask, encoding: .landsat, descriptions: spectra.bands,
                                          metadata: region.metadata(["ACQUISITION_DATE": date.description]))
            files += 1
        }
        return TileResult(classCounts: counts, files: files)
    }

    /// The label grid in EPSG:3035 covering `image`'s footprint (snapped outward to 100 m) and
    /// its classes: each cell's 3 × 3 sample points are taken back to the image's CRS and the
    /// majority class wins (unlabelled ground votes for NODATA).
    static func corineLabel(_ landscape: Landscape, under image: ProjectedGrid) throws -> (ProjectedGrid, [UInt8]) {
        let toLAEA = try CoordinateTransform(epsg: image.epsg, to: ProjectedGrid.laeaEurope)
        // The footprint's outline, 16 points a side (a square in UTM is a slightly turned,
        // slightly bent quadrilateral in LAEA).
        var xs = [Double](), ys = [Double]()
        let w = Double(image.width) * image.resolution, h = Double(image.height) * image.resolution
        for k in 0...16 {
            let f = Double(k) / 16
            xs += [image.originX + f * w, image.originX + f * w, image.originX, image.originX + w]
            ys += [image.originY, image.originY - h, image.originY - f * h, image.originY - f * h]
        }
        try toLAEA.transformAll(&xs, &ys)
        let r = labelResolution
        let x0 = (xs.min()! / r).rounded(.down) * r, x1 = (xs.max()! / r).rounded(.up) * r
        let y0 = (ys.min()! / r).rounded(.down) * r, y1 = (ys.max()! / r).rounded(.up) * r
        let grid = ProjectedGrid(epsg: ProjectedGrid.laeaEurope, originX: x0, originY: y1, resolution: r,
                           width: Int(((x1 - x0) / r).rounded()), height: Int(((y1 - y0) / r).rounded()))

        // Cell corners back to the image CRS; points inside a cell are interpolated between its
        // corners (the transformation is affine to far below a metre over 100 m).
        let cw = grid.width + 1, ch = grid.height + 1
        var cx = [Double](repeating: 0, count: cw * ch), cy = cx
        for j in 0..<ch {
            for i in 0..<cw {
                cx[j * cw + i] = grid.originX + Double(i) * r
                cy[j * cw + i] = grid.originY - Double(j) * r
            }
        }
        try CoordinateTransform(epsg: ProjectedGrid.laeaEurope, to: image.epsg).transformAll(&cx, &cy)

        var labels = [UInt8](repeating: 0, count: grid.width * grid.height)
        var cache: [UInt64: UInt8] = [:]
        var votes = [Int](repeating: 0, count: ClassSpectra.classCount + 1)
        let s = labelSubsamples
        for j in 0..<grid.height {
            for i in 0..<grid.width {
                for v in votes.indices { votes[v] = 0 }
                let a = j * cw + i, b = a + 1, c = a + cw, d = c + 1
                for sy in 0..<s {
                    for sx in 0..<s {
                        let u = (Double(sx) + 0.5) / Double(s), v = (Double(sy) + 0.5) / Double(s)
                        let x = (1 - v) * ((1 - u) * cx[a] + u * cx[b]) + v * ((1 - u) * cx[c] + u * cx[d])
                        let y = (1 - v) * ((1 - u) * cy[a] + u * cy[b]) + v * ((1 - u) * cy[c] + u * cy[d])
                        let p = landscape.sample(x, y, cache: &cache)
                        votes[p.labelled ? Int(p.cls) : 0] += 1
                    }
                }
                // Majority; a tie goes to a class rather than to NODATA.
                var best = 1
                for v in 2..<votes.count where votes[v] > votes[best] { best = v }
                if votes[0] > votes[best] { best = 0 }
                labels[j * grid.width + i] = UInt8(best)
            }
        }
        return (grid, labels)
    }
}
