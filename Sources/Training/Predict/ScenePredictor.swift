import DataIO
import Engine
import Foundation
import Models

/// What one predicted tile gave.
public struct PredictionSummary: Sendable {
    public let tile: String
    public let output: String
    public let probabilities: String?
    /// The target grid's size.
    public let width: Int, height: Int
    /// Windows run through the model (all-NODATA windows are skipped).
    public let windows: Int
    /// Pixels with a class (the rest are NODATA 255).
    public let classified: Int
}

/// Class maps of whole tiles from a dense classification model: sliding W×W windows with
/// overlap O over the tile's target grid (read, resampled and normalised as in training),
/// softmax scores averaged where windows overlap, each window's inner borders (O/2 px) left
/// out so window edges leave no seams. The scene is processed in strips of window rows: only
/// W rows of score sums live in memory, and rows are written as soon as no later window
/// reaches them.
public final class ScenePredictor {
    public let model: PredictionModel
    public let window: Int, overlap: Int, batch: Int
    let net: Model
    let executor: Executor

    /// `window` defaults to the training window; `overlap` must leave a positive stride.
    public init(model: PredictionModel, window: Int? = nil, overlap: Int = 0, batch: Int = 4) throws {
        let w = window ?? model.window
        guard w > 0, overlap >= 0, overlap < w else {
            throw DataError(path: model.path, "window \(w) and overlap \(overlap): need window > overlap ≥ 0")
        }
        guard batch >= 1 else { throw DataError(path: model.path, "batch \(batch) must be at least 1") }
        self.model = model
        (self.window, self.overlap, self.batch) = (w, overlap, batch)
        (net, executor) = try model.build(window: w, batch: batch)
    }

    /// GDAL's block cache while predicting: a strip of window rows of every band (a 10980 px
    /// Sentinel-2 row of 256 px windows is ≈ 60 MB of UInt16) fits; without a cap GDAL keeps
    /// up to 5% of RAM of blocks already read, and memory grows with the scene.
    public var blockCacheBytes = 128 << 20

    /// How windows are read: the model's bands by name, resolution and resampling, no labels,
    /// no window skipped (NODATA pixels come out as NODATA).
    public var tileOptions: TileOptions {
        TileOptions(bands: model.bands?.map { .name($0) }, resolution: model.resolution, windowSize: window,
                    stride: window - overlap, labels: .none, maxNodataFraction: 1, resampling: model.resampling,
                    blockCacheBytes: blockCacheBytes)
    }

    /// Predicts tile `tile` of `repository` into `output` (uint8 classes 0..<K, NODATA 255,
    /// colour table, class names, overviews) and optionally `probabilities` (float32, one band
    /// per class, NODATA NaN), both on the tile's target grid.
    public func predict(repository: TileRepository, tile: String, output: String, probabilities: String? = nil) throws -> PredictionSummary {
        let grid = try WindowGrid(repository, options: tileOptions)
        guard let ti = grid.plans.firstIndex(where: { $0.tile.name == tile }) else {
            throw DataError(path: repository.path, "has no tile '\(tile)'")
        }
        let plan = grid.plans[ti]
        let want = Array(net.inputShape.dims.dropFirst())
        guard grid.layout.imageShape.dims == want else {
            throw DataError(path: plan.tile.path, "gives \(grid.layout.imageShape) windows but \(model.path) takes \(want.map(String.init).joined(separator: "×")) (bands \(grid.bandNames.joined(separator: ", ")))")
        }
        let k = model.classes, (gw, gh) = (plan.grid.width, plan.grid.height)
        let table = try? repository.classTable(for: plan.tile, count: k)
        let names = table?.names ?? (0..<k).map { "class \($0)" }

        let classes = try StripRasterWriter<UInt8>(output, grid: plan.grid, projection: plan.tile.crs, bands: 1, noData: 255)
        try classes.setClasses(colours: ClassPalette.table(classes: k), names: names)
        let probs = try probabilities.map {
            try StripRasterWriter<Float>($0, grid: plan.grid, projection: plan.tile.crs, bands: k, noData: .nan, descriptions: names)
        }
        let strips = StripSums(classes: k, rows: window, width: gw, probabilities: probs != nil)
        let reader = WindowReader(grid: grid)
        defer { reader.close() }
        let sample = reader.makeSample()
        let (w, n, half) = (window, window * window, overlap / 2)
        let planes = grid.layout.imageShape.count / n
        let (scale, offset) = model.normalization.coefficients(bands: grid.layout.channels)
        let input = executor.value(net.input), out = executor.value(net.output)
        let masks = UnsafeMutablePointer<Float>.allocate(capacity: batch * n)
        defer { masks.deallocate() }
        let xs = Self.origins(size: gw, window: w, stride: w - overlap)
        let ys = Self.origins(size: gh, window: w, stride: w - overlap)
        var windows = 0, classified = 0

        /// Runs the model on the windows of `slots` (x origins, row `y`) and adds their scores.
        func run(_ slots: [Int], y: Int) {
            executor.forward(mode: .inference)
            windows += slots.count
            for (b, x) in slots.enumerated() {
                let left = x > 0 ? half : 0, right = min(x + w >= gw ? w : w - half, gw - x)
                let top = y > 0 ? half : 0, bottom = min(y + w >= gh ? w : w - half, gh - y)
                strips.add(scores: out.data + b * k * n, mask: masks + b * n, window: w,
                           rows: top..<bottom, cols: left..<right, at: (x, y))
            }
        }

        for (j, y) in ys.enumerated() {
            var slots: [Int] = []
            for x in xs {
                let status = try reader.read(WindowRef(tile: ti, x: x, y: y, size: w), into: sample)
                guard status.validFraction > 0 else { continue }
                let b = slots.count
                let dst = input.data + b * planes * n, m = sample.mask.data
                (masks + b * n).update(from: m, count: n)
                // C×[T×]W×W planes; band c's planes share its coefficients, masked pixels stay 0.
                for q in 0..<planes {
                    let c = q / (planes / grid.layout.channels), s = scale[c], o = offset[c]
                    let src = sample.image.data + q * n, d = dst + q * n
                    for p in 0..<n { d[p] = m[p] != 0 ? Float(Double(src[p]) * s + o) : 0 }
                }
                slots.append(x)
                if slots.count == batch { run(slots, y: y); slots = [] }
            }
            if !slots.isEmpty {
                input.data.advanced(by: slots.count * planes * n).update(repeating: 0, count: (batch - slots.count) * planes * n)
                run(slots, y: y)
            }
            // Rows above the next window row's first kept row are final.
            let end = j + 1 < ys.count ? min(ys[j + 1] + half, gh) : gh
            classified += try strips.flush(rows: end - strips.base, classes: classes, probabilities: probs)
        }
        try classes.finish(overviews: "NEAREST")
        try probs?.finish(overviews: "AVERAGE")
        return PredictionSummary(tile: tile, output: output, probabilities: probabilities, width: gw, height: gh,
                                 windows: windows, classified: classified)
    }

    /// Window origins along an axis of `size` pixels: 0, stride, 2·stride, … while the window
    /// fits, plus one flush with the end (just 0 when the axis is shorter than the window).
    static func origins(size: Int, window: Int, stride: Int) -> [Int] {
        guard size > window else { return [0] }
        var p: [Int] = []
        var v = 0
        while v + window <= size { p.append(v); v += stride }
        if p.last! + window < size { p.append(size - window) }
        return p
    }
}
