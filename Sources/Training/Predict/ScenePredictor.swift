import DataIO
import Engine
import Foundation
import Models

/// What one predicted tile gave.
public struct PredictionSummary: Sendable {
    public let tile: String
    public let output: String
    public let probabilities: String?
    /// The output grid's size (the tile's target grid; `factor` times finer for super-resolution).
    public let width: Int, height: Int
    /// Windows run through the model (all-NODATA windows are skipped).
    public let windows: Int
    /// Pixels with a class or value (the rest are NODATA: 255, or NaN for regression).
    public let classified: Int
}

/// Maps of whole tiles from a dense model: sliding W×W windows with overlap O over the tile's
/// target grid (read, resampled and normalised as in training), outputs averaged where windows
/// overlap (softmax scores for classifiers, raw values for regression), each window's inner
/// borders (O/2 px) left out so window edges leave no seams. The scene is processed in strips
/// of window rows: only W rows of sums live in memory, and rows are written as soon as no
/// later window reaches them. A super-resolution model (s·W × s·W outputs per window) fills
/// a grid s times finer, all of the above scaled by s.
public final class ScenePredictor {
    public let model: PredictionModel
    public let window: Int, overlap: Int, batch: Int
    let net: Model
    let executor: Executor
    public let kind: PredictionModel.Kind
    /// Output pixels per input pixel along each axis (super-resolution; 1 otherwise).
    public var factor: Int { if case .dense(let f) = kind { f } else { 1 } }
    public var isRegression: Bool { net.task == .regression }

    /// `window` defaults to the training window; `overlap` must leave a positive stride. Pixel
    /// models see one pixel at a time: their windows do not overlap (`overlap` is ignored).
    /// Patch models (P×P) need the whole patch of every kept pixel inside its window: the
    /// overlap is raised to at least 2·⌊P/2⌋.
    public init(model: PredictionModel, window: Int? = nil, overlap: Int = 0, batch: Int = 4) throws {
        let w = window ?? model.window
        guard w > 0, overlap >= 0, overlap < w else {
            throw DataError(path: model.path, "window \(w) and overlap \(overlap): need window > overlap ≥ 0")
        }
        guard batch >= 1 else { throw DataError(path: model.path, "batch \(batch) must be at least 1") }
        self.model = model
        (net, executor, kind) = try model.build(window: w, batch: batch)
        var o = overlap
        switch kind {
        case .pixels: o = 0
        case .patches(let p):
            o = max(o, 2 * (p / 2))
            guard o < w else { throw DataError(path: model.path, "window \(w) is too small for \(p)×\(p) patches: need a window > \(o)") }
        case .dense: break
        }
        (self.window, self.overlap, self.batch) = (w, o, batch)
    }

    /// GDAL's block cache while predicting: a strip of window rows of every band (a 10980 px
    /// Sentinel-2 row of 256 px windows is ≈ 60 MB of UInt16) fits; without a cap GDAL keeps
    /// up to 5% of RAM of blocks already read, and memory grows with the scene.
    public var blockCacheBytes = 128 << 20

    /// COG layout and the probabilities' storage type.
    public var outputOptions = RasterOutputOptions()
    /// Time series: strict (a pixel missing at any date is NODATA) or not (a pixel is kept when
    /// some date has it; missing dates are 0 after normalisation, as in training). Defaults to
    /// how the model was trained.
    public lazy var maskAnyDate = model.maskAnyDate

    /// How windows are read: the model's bands by name, resolution and resampling, no labels,
    /// no window skipped (NODATA pixels come out as NODATA).
    public var tileOptions: TileOptions {
        TileOptions(bands: model.bands?.map { .name($0) }, resolution: model.resolution, windowSize: window,
                    stride: window - overlap, labels: .none, maskAnyDate: maskAnyDate, maxNodataFraction: 1, resampling: model.resampling,
                    blockCacheBytes: blockCacheBytes)
    }

    /// Predicts tile `tile` of `repository` into `output`: for a classifier uint8 classes 0..<K
    /// (NODATA 255, colour table, class names, overviews) and optionally `probabilities`
    /// (float32, one band per class, NODATA NaN), both on the tile's target grid; for a
    /// regression model float32 values, one band per output, NODATA NaN, on the target grid
    /// refined `factor` times (`probabilities` must be nil).
    public func predict(repository: TileRepository, tile: String, output: String, probabilities: String? = nil) throws -> PredictionSummary {
        let grid = try WindowGrid(repository, options: tileOptions)
        guard let ti = grid.plans.firstIndex(where: { $0.tile.name == tile }) else {
            throw DataError(path: repository.path, "has no tile '\(tile)'")
        }
        let plan = grid.plans[ti]
        let want = Array(model.sample.dropLast(2)) + [window, window]
        guard grid.layout.imageShape.dims == want else {
            throw DataError(path: plan.tile.path, "gives \(grid.layout.imageShape) windows but \(model.path) takes \(want.map(String.init).joined(separator: "×")) (bands \(grid.bandNames.joined(separator: ", ")))")
        }
        let (gw, gh) = (plan.grid.width, plan.grid.height), f = factor, k = net.outputShape.channels
        var og = plan.grid
        (og.width, og.height, og.pixelWidth, og.pixelHeight) = (gw * f, gh * f, og.pixelWidth / Double(f), og.pixelHeight / Double(f))
        let classes: StripRasterWriter<UInt8>?, probs: StripRasterWriter<Float>?
        if isRegression {
            if probabilities != nil { throw DataError(path: model.path, "is a regression model: it has no class probabilities to write") }
            classes = nil
            probs = try StripRasterWriter<Float>(output, grid: og, projection: plan.tile.crs, bands: k, noData: .nan,
                                                 descriptions: (0..<k).map { "output \($0)" }, cog: outputOptions.cog)
        } else {
            let table = try? repository.classTable(for: plan.tile, count: k)
            let names = table?.names ?? (0..<k).map { "class \($0)" }
            let c = try StripRasterWriter<UInt8>(output, grid: og, projection: plan.tile.crs, bands: 1, noData: 255, cog: outputOptions.cog)
            try c.setClasses(colours: ClassPalette.table(classes: k), names: names)
            classes = c
            probs = try probabilities.map {
                try StripRasterWriter<Float>($0, grid: og, projection: plan.tile.crs, bands: k, noData: .nan, descriptions: names,
                                         cog: outputOptions.cog, quantized: outputOptions.probabilities == .uint8)
            }
        }
        let wo = window * f, no = wo * wo
        let strips = StripSums(channels: k, rows: wo, width: gw * f, softmax: !isRegression, averages: probs != nil)
        let reader = WindowReader(grid: grid)
        defer { reader.close() }
        let sample = reader.makeSample()
        let (w, n, half) = (window, window * window, overlap / 2)
        let planes = grid.layout.imageShape.count / n
        let (scale, offset) = model.normalization.coefficients(bands: grid.layout.channels)
        let input = executor.value(net.input), out = executor.value(net.output)
        let masks = UnsafeMutablePointer<Float>.allocate(capacity: batch * no)
        defer { masks.deallocate() }
        // Pixel/patch models: window b's normalised C×[T×]W×W planes, turned into its W² rows.
        let pixels = kind != .dense(factor: f), planar = UnsafeMutablePointer<Float>.allocate(capacity: pixels ? planes * n : 0)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: pixels ? k * n : 0)
        defer { planar.deallocate(); scores.deallocate() }
        let xs = Self.origins(size: gw, window: w, stride: w - overlap)
        let ys = Self.origins(size: gh, window: w, stride: w - overlap)
        var windows = 0, classified = 0

        /// Runs the model on the windows of `slots` (x origins, row `y`) and adds their outputs
        /// (in output pixels: everything × f).
        func run(_ slots: [Int], y: Int) {
            executor.forward(mode: .inference)
            windows += slots.count
            for (b, x) in slots.enumerated() {
                let left = x > 0 ? half : 0, right = min(x + w >= gw ? w : w - half, gw - x)
                let top = y > 0 ? half : 0, bottom = min(y + w >= gh ? w : w - half, gh - y)
                var s = UnsafePointer(out.data + b * k * no)
                if pixels {
                    // Rows (b·W² + p) × K → K×W×W.
                    let src = out.data + b * n * k
                    for p in 0..<n { for j in 0..<k { scores[j * n + p] = src[p * k + j] } }
                    s = UnsafePointer(scores)
                }
                strips.add(scores: s, mask: masks + b * no, window: wo,
                           rows: (top * f)..<(bottom * f), cols: (left * f)..<(right * f), at: (x * f, y * f))
            }
        }

        for (j, y) in ys.enumerated() {
            var slots: [Int] = []
            for x in xs {
                let status = try reader.read(WindowRef(tile: ti, x: x, y: y, size: w), into: sample)
                guard status.validFraction > 0 else { continue }
                let b = slots.count
                let dst = pixels ? planar : input.data + b * planes * n, m = sample.mask.data
                if f == 1 {
                    (masks + b * n).update(from: m, count: n)
                } else {
                    // Each output pixel takes the mask of the input pixel it lies in.
                    let d = masks + b * no
                    for oy in 0..<wo { for ox in 0..<wo { d[oy * wo + ox] = m[(oy / f) * w + ox / f] } }
                }
                // C×[T×]W×W planes; band c's planes share its coefficients, masked pixels stay 0
                // (and, without the strict time-series mask, pixels missing at that date).
                let dates = planes / grid.layout.channels
                for q in 0..<planes {
                    let c = q / dates, s = scale[c], o = offset[c]
                    let vm = sample.dateMask.map { $0.data + (q % dates) * n } ?? m
                    let src = sample.image.data + q * n, d = dst + q * n
                    for p in 0..<n { d[p] = vm[p] != 0 ? Float(Double(src[p]) * s + o) : 0 }
                }
                switch kind {
                case .pixels:
                    // C×T planes of W² pixels → W² rows of C×T (as Feed does in training).
                    let rows = input.data + b * n * planes
                    for q in 0..<planes { for p in 0..<n { rows[p * planes + q] = planar[q * n + p] } }
                case .patches(let ps):
                    Self.cutPatches(planar, planes: planes, window: w, size: ps, into: input.data + b * n * planes * ps * ps)
                case .dense: break
                }
                slots.append(x)
                if slots.count == batch { run(slots, y: y); slots = [] }
            }
            if !slots.isEmpty {
                let per = net.inputShape.count / batch  // one window's input (its W² rows for pixel/patch models)
                input.data.advanced(by: slots.count * per).update(repeating: 0, count: (batch - slots.count) * per)
                run(slots, y: y)
            }
            // Rows above the next window row's first kept row are final.
            let end = j + 1 < ys.count ? min(ys[j + 1] + half, gh) : gh
            classified += try strips.flush(rows: end * f - strips.base, classes: classes, averages: probs)
        }
        try classes?.finish(overviews: "NEAREST")
        try probs?.finish(overviews: "AVERAGE")
        return PredictionSummary(tile: tile, output: output, probabilities: probabilities, width: gw * f, height: gh * f,
                                 windows: windows, classified: classified)
    }

    /// The P×P patch centred on each pixel of a window (`planes`×W×W at `src`; rows and columns
    /// p − ⌊P/2⌋ … as training cuts them) → W² rows of planes×P×P at `dst`; what lies outside
    /// the window is 0, as masked pixels are.
    static func cutPatches(_ src: UnsafePointer<Float>, planes: Int, window w: Int, size ps: Int, into dst: UnsafeMutablePointer<Float>) {
        let n = w * w, r = ps / 2, row = planes * ps * ps
        dst.update(repeating: 0, count: n * row)
        for py in 0..<w {
            for px in 0..<w {
                let d = dst + (py * w + px) * row
                let x0 = max(0, r - px), x1 = min(ps, w - px + r)  // patch columns inside the window
                for q in 0..<planes {
                    for y in 0..<ps {
                        let sy = py - r + y
                        guard sy >= 0, sy < w, x1 > x0 else { continue }
                        (d + (q * ps + y) * ps + x0).update(from: src + q * n + sy * w + px - r + x0, count: x1 - x0)
                    }
                }
            }
        }
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
