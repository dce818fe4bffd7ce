import Foundation

/// A Sentinel-2 L2A-like tile: one GeoTIFF per band (file stem = band name), the four 10 m
/// bands (B02 B03 B04 B08) on the tile's 10 m grid and the six 20 m bands (B05 B06 B07 B8A B11
/// B12) on a grid of the same footprint with pixels twice as large; UInt16 reflectance × 10000,
/// NODATA 0. One set per date (in YYYY-MM-DD folders when there are several dates), and a 10 m
/// `label.tif`.
enum Sentinel2Writer {
    /// The band files in the order shard.json lists them.
    static let bandFiles: [(name: String, resolution: Int)] = [
        ("B02", 10), ("B03", 10), ("B04", 10), ("B08", 10),
        ("B05", 20), ("B06", 20), ("B07", 20), ("B8A", 20), ("B11", 20), ("B12", 20),
    ]

    static func writeTile(_ region: Region, tile t: Int, dir: String, options: SynthOptions) throws -> TileResult {
        let spectra = ClassSpectra.sentinel2
        let origin = region.tileOrigins[t]
        let grid10 = ProjectedGrid(epsg: region.epsg, originX: origin.x, originY: origin.y, resolution: 10,
                             width: options.size, height: options.size)
        let grid20 = grid10.coarsened(by: 2)
        let map = ClassMap(region.landscape, grid: grid10)
        let labels = map.labels
        try RepositoryWriter.writeLabel(dir + "/label.tif", grid: grid10, labels: labels, classes: ClassSpectraTable.classes,
                                      colours: RepositoryWriter.colours, metadata: region.metadata())
        var counts = [Int](repeating: 0, count: ClassSpectra.classCount + 1)
        for v in labels { counts[Int(v)] += 1 }

        var files = 1
        try region.renderDates(tile: t, dir: dir, grid: grid10, map: map, spectra: spectra, options: options) { folder, date, values, mask in
            let mask20 = NoDataMask.coarsened(mask, width: grid10.width, height: grid10.height, by: 2)
            let values20 = coarsen(values, bands: spectra.bands.count, width: grid10.width, height: grid10.height)
            for (name, res) in bandFiles {
                let b = spectra.band(name)
                let meta = region.metadata(["ACQUISITION_DATE": date.description, "BAND": name,
                                            "CENTRAL_WAVELENGTH_UM": String(spectra.centres[b])])
                if res == 10 {
                    try RepositoryWriter.writeImage(folder + "/\(name).tif", grid: grid10, values: values, bandIndices: [b],
                                                  bandCount: spectra.bands.count, noData: mask, encoding: .sentinel2,
                                                  descriptions: [name], metadata: meta)
                } else {
                    try RepositoryWriter.writeImage(folder + "/\(name).tif", grid: grid20, values: values20, bandIndices: [b],
                                                  bandCount: spectra.bands.count, noData: mask20, encoding: .sentinel2,
                                                  descriptions: [name], metadata: meta)
                }
                files += 1
            }
        }
        return TileResult(classCounts: counts, files: files)
    }

    /// 2 × 2 block means of every band (the 20 m bands see the same ground as four 10 m pixels).
    static func coarsen(_ values: [Float], bands: Int, width: Int, height: Int) -> [Float] {
        let w = width / 2, h = height / 2, n = width * height
        var out = [Float](repeating: 0, count: bands * w * h)
        values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                for b in 0..<bands {
                    for r in 0..<h {
                        for c in 0..<w {
                            let i = b * n + 2 * r * width + 2 * c
                            o[b * w * h + r * w + c] = 0.25 * (v[i] + v[i + 1] + v[i + width] + v[i + width + 1])
                        }
                    }
                }
            }
        }
        return out
    }
}
