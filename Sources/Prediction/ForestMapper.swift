import DataIO
import Foundation
import Forest

/// Maps of whole tiles from a random_forest entry's final/<name>.h5: the tile read as training
/// did (the forest file's bands, resolution, resampling and normalisation, like `ScenePredictor`),
/// in W×W windows overlapping by 2·⌊P/2⌋ so every kept pixel's P×P patch lies in its window;
/// each valid pixel's features (its C·T values, or its P×P patch of them, masked values 0) go
/// through the forest. Output as `ScenePredictor`'s: uint8 classes (NODATA 255, colour table,
/// class names), optionally float32 probabilities (the trees' mean leaf frequencies, NODATA NaN),
/// written a strip of window rows at a time.
public final class ForestMapper {
    public let model: PredictionModel
    public let forest: RandomForest
    /// P (1: pixel features).
    public let patch: Int
    public let window: Int, overlap: Int

    public init(path: String, window: Int? = nil) throws {
        model = try PredictionModel(path: path)
        let c = try ForestWeights.read(path)
        (forest, patch) = (c.forest, c.patch)
        let w = window ?? model.window
        overlap = 2 * (patch / 2)
        guard w > overlap else { throw DataError(path: path, "window \(w) is too small for \(patch)×\(patch) patches: need a window > \(overlap)") }
        self.window = w
        let planes = model.sample.dropLast(2).reduce(1, *)
        guard forest.features == planes * patch * patch, forest.classes == model.classes else {
            throw DataError(path: path, "a forest of \(forest.features) features and \(forest.classes) classes does not fit \(planes) values per pixel, \(patch)×\(patch) patches and \(model.classes) classes")
        }
    }

    public var blockCacheBytes = 128 << 20
    /// COG, probability storage (`predict --cog`, `--probabilities-type`).
    public var outputOptions = RasterOutputOptions()

    public var tileOptions: TileOptions {
        TileOptions(bands: model.bands?.map { .name($0) }, resolution: model.resolution, windowSize: window,
                    stride: window - overlap, labels: .none, maxNodataFraction: 1, resampling: model.resampling,
                    blockCacheBytes: blockCacheBytes)
    }

    /// Classes (and probabilities) of tile `tile` of `repository`, on its target grid.
    public func predict(repository: TileRepository, tile: String, output: String, probabilities: String? = nil) throws -> PredictionSummary {
        let (grid, ti) = try model.windows(of: tile, in: repository, options: tileOptions)
        let plan = grid.plans[ti]
        let (gw, gh, k) = (plan.grid.width, plan.grid.height, forest.classes)
        let table = try? repository.classTable(for: plan.tile, count: k)
        let names = model.classNames(table: table)
        let classes = try StripRasterWriter<UInt8>(output, grid: plan.grid, projection: plan.tile.crs, bands: 1, noData: 255,
                                                   cog: outputOptions.cog)
        try classes.setClasses(colours: model.palette(names: names), names: names)
        let probs = try probabilities.map {
            try StripRasterWriter<Float>($0, grid: plan.grid, projection: plan.tile.crs, bands: k, noData: .nan, descriptions: names,
                                         cog: outputOptions.cog, quantized: outputOptions.probabilities == .uint8)
        }
        let reader = WindowReader(grid: grid)
        defer { reader.close() }
        let sample = reader.makeSample()
        let (w, n, half) = (window, window * window, overlap / 2)
        let planes = grid.layout.imageShape.count / n, f = forest.features
        let (scale, offset) = model.normalization.coefficients(bands: grid.layout.channels)
        var planar = [Float](repeating: 0, count: planes * n), row = [Float](repeating: 0, count: f)
        var p = [Float](repeating: 0, count: k)
        let xs = ScenePredictor.origins(size: gw, window: w, stride: w - overlap)
        let ys = ScenePredictor.origins(size: gh, window: w, stride: w - overlap)
        var windows = 0, classified = 0, written = 0
        for (j, y) in ys.enumerated() {
            // The strip of rows this window row keeps: rows [top, bottom) of the tile.
            let top = max(y + (y > 0 ? half : 0), written), bottom = min(j + 1 < ys.count ? y + w - half : y + w, gh)
            guard bottom > top else { continue }
            let h = bottom - top
            var cls = [UInt8](repeating: 255, count: h * gw)
            var pr = [Float](repeating: .nan, count: probs == nil ? 0 : k * h * gw)
            for (i, x) in xs.enumerated() {
                let status = try reader.read(WindowRef(tile: ti, x: x, y: y, size: w), into: sample)
                guard status.validFraction > 0 else { continue }
                windows += 1
                let m = sample.mask.data
                planar.withUnsafeMutableBufferPointer {
                    sample.normalised(bands: grid.layout.channels, scale: scale, offset: offset, into: $0.baseAddress!)
                }
                let left = x + (x > 0 ? half : 0), right = min(i + 1 < xs.count ? x + w - half : x + w, gw)
                planar.withUnsafeBufferPointer { pl in
                    row.withUnsafeMutableBufferPointer { r in
                        p.withUnsafeMutableBufferPointer { pp in
                            // Only the kept, valid pixels get features: their C·T values or P×P patch.
                            for ty in top..<bottom {
                                for tx in left..<right {
                                    let wp = (ty - y) * w + (tx - x)
                                    guard m[wp] != 0 else { continue }
                                    if patch > 1 {
                                        ScenePredictor.cutPatch(pl.baseAddress!, planes: planes, window: w, size: patch,
                                                                at: (x: tx - x, y: ty - y), into: r.baseAddress!)
                                    } else {
                                        for q in 0..<planes { r[q] = pl[q * n + wp] }
                                    }
                                    let c = forest.predict(r.baseAddress!, scratch: pp.baseAddress!)
                                    let o = (ty - top) * gw + tx
                                    if cls[o] == 255 { classified += 1 }
                                    cls[o] = UInt8(c)
                                    if probs != nil { for q in 0..<k { pr[q * h * gw + o] = pp[q] } }
                                }
                            }
                        }
                    }
                }
            }
            try cls.withUnsafeBufferPointer { try classes.write(rows: top..<bottom, $0.baseAddress!) }
            try pr.withUnsafeBufferPointer { b in try probs?.write(rows: top..<bottom, b.baseAddress!) }
            written = bottom
        }
        try classes.finish(overviews: "NEAREST")
        try probs?.finish(overviews: "AVERAGE")
        return PredictionSummary(tile: tile, output: output, probabilities: probabilities, width: gw, height: gh,
                                 windows: windows, classified: classified)
    }
}
