import DataIO
import Distributed
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
    ///
    /// With `world` of several ranks (every rank calls this with the same arguments) the window
    /// rows are split into contiguous bands (`SceneBands`), each rank runs its own, and rank 0
    /// writes the files, receiving the other ranks' finished rows in order; the files are the
    /// ones a single process writes, bit for bit. Every rank returns the whole scene's summary.
    public func predict(repository: TileRepository, tile: String, output: String, probabilities: String? = nil,
                        world: Communicator? = nil) throws -> PredictionSummary {
        let (grid, ti) = try model.windows(of: tile, in: repository, options: tileOptions)
        let plan = grid.plans[ti]
        if isRegression, probabilities != nil { throw DataError(path: model.path, "is a regression model: it has no class probabilities to write") }
        let (gw, gh) = (plan.grid.width, plan.grid.height), f = factor, k = net.outputShape.channels
        let (w, n, half) = (window, window * window, overlap / 2)
        let xs = Self.origins(size: gw, window: w, stride: w - overlap)
        let bands = SceneBands(origins: Self.origins(size: gh, window: w, stride: w - overlap), height: gh, window: w, overlap: overlap,
                               ranks: world?.size ?? 1)
        let rank = world?.rank ?? 0, mine = bands.band(rank)

        // Rank 0 writes; the others spool their finished rows for it.
        var og = plan.grid
        (og.width, og.height, og.pixelWidth, og.pixelHeight) = (gw * f, gh * f, og.pixelWidth / Double(f), og.pixelHeight / Double(f))
        var classes: StripRasterWriter<UInt8>?, probs: StripRasterWriter<Float>?
        if rank == 0 {
            if isRegression {
                probs = try StripRasterWriter<Float>(output, grid: og, projection: plan.tile.crs, bands: k, noData: .nan,
                                                     descriptions: (0..<k).map { "output \($0)" }, cog: outputOptions.cog)
            } else {
                let table = try? repository.classTable(for: plan.tile, count: k)
                let names = model.classNames(table: table)
                let c = try StripRasterWriter<UInt8>(output, grid: og, projection: plan.tile.crs, bands: 1, noData: 255, cog: outputOptions.cog)
                try c.setClasses(colours: model.palette(names: names), names: names)
                classes = c
                probs = try probabilities.map {
                    try StripRasterWriter<Float>($0, grid: og, projection: plan.tile.crs, bands: k, noData: .nan, descriptions: names,
                                             cog: outputOptions.cog, quantized: outputOptions.probabilities == .uint8)
                }
            }
        }
        let averages = isRegression || probabilities != nil
        let gather = world.map { RowGather(world: $0, width: gw * f, channels: k, classes: !isRegression, averages: averages) }
        let sink: StripSums.Sink = { r, c, a in
            if rank == 0 {
                if let classes, let c { try classes.write(rows: r, c) }
                if let probs, let a { try probs.write(rows: r, a) }
            } else {
                try gather!.spool(rows: r, classes: c, averages: a)
            }
        }

        let wo = w * f, no = wo * wo
        let strips = StripSums(channels: k, rows: wo, width: gw * f, softmax: !isRegression, averages: averages, base: mine.firstRow * f)
        let reader = WindowReader(grid: grid)
        defer { reader.close() }
        let sample = reader.makeSample()
        let planes = grid.layout.imageShape.count / n
        let (scale, offset) = model.normalization.coefficients(bands: grid.layout.channels)
        let input = executor.value(net.input), out = executor.value(net.output)
        let masks = UnsafeMutablePointer<Float>.allocate(capacity: batch * no)
        defer { masks.deallocate() }
        // Pixel/patch models: one window's normalised C×[T×]W×W planes, cut into rows of the
        // model's input for its kept, valid pixels only; `targets` says where row i's scores go.
        let pixels = kind != .dense(factor: f), capacity = net.inputShape.dims[0], per = net.inputShape.count / capacity
        let planar = UnsafeMutablePointer<Float>.allocate(capacity: pixels ? planes * n : 0)
        var targets = [(y: Int, x: Int)](), cursor = 0
        defer { planar.deallocate() }
        var windows = 0, classified = 0

        /// The part of the window at (x, y) whose outputs count: its inner borders left out,
        /// clipped to the scene and to rows this rank holds (in input pixels, window-relative).
        func kept(x: Int, y: Int) -> (rows: Range<Int>, cols: Range<Int>) {
            let left = x > 0 ? half : 0, right = min(x + w >= gw ? w : w - half, gw - x)
            let top = max(y > 0 ? half : 0, mine.firstRow - y), bottom = min(y + w >= gh ? w : w - half, gh - y)
            return (top..<max(top, bottom), left..<right)
        }

        /// Dense models: runs the windows of `slots` (x origins, row `y`) and adds their outputs
        /// (in output pixels: everything × f).
        func run(_ slots: [Int], y: Int) {
            executor.forward(mode: .inference)
            for (b, x) in slots.enumerated() {
                let (r, c) = kept(x: x, y: y)
                let rows: Range<Int> = (r.lowerBound * f)..<(r.upperBound * f), cols: Range<Int> = (c.lowerBound * f)..<(c.upperBound * f)
                let scores = UnsafePointer(out.data + b * k * no), mask = UnsafePointer(masks + b * no)
                strips.add(scores: scores, mask: mask, window: wo, rows: rows, cols: cols, at: (x: x * f, y: y * f))
            }
        }

        /// Pixel/patch models: runs the `cursor` rows cut so far (the rest zero) and adds each
        /// row's K scores at its pixel.
        func runRows() {
            guard cursor > 0 else { return }
            input.data.advanced(by: cursor * per).update(repeating: 0, count: (capacity - cursor) * per)
            executor.forward(mode: .inference)
            for i in 0..<cursor { strips.add(pixel: out.data + i * k, y: targets[i].y, x: targets[i].x) }
            cursor = 0
            targets.removeAll(keepingCapacity: true)
        }

        for j in mine.computed {
            let y = bands.origins[j]
            var slots: [Int] = []
            for x in xs {
                let status = try reader.read(WindowRef(tile: ti, x: x, y: y, size: w), into: sample)
                guard status.validFraction > 0 else { continue }
                // A lead row (the previous band's last) is run only for its share of this band's rows.
                if mine.owned.contains(j) { windows += 1 }
                let b = slots.count
                let dst = pixels ? planar : input.data + b * planes * n, m = sample.mask.data
                if !pixels && f == 1 {
                    (masks + b * n).update(from: m, count: n)
                } else if !pixels {
                    // Each output pixel takes the mask of the input pixel it lies in.
                    let d = masks + b * no
                    for oy in 0..<wo { for ox in 0..<wo { d[oy * wo + ox] = m[(oy / f) * w + ox / f] } }
                }
                sample.normalised(bands: grid.layout.channels, scale: scale, offset: offset, into: dst)
                guard pixels else {
                    slots.append(x)
                    if slots.count == batch { run(slots, y: y); slots = [] }
                    continue
                }
                // One row per kept pixel with data (rows = kept pixels, not W²): its C×T series
                // (as Feed does in training) or the P×P patch centred on it.
                let (rows, cols) = kept(x: x, y: y)
                for py in rows {
                    for px in cols where m[py * w + px] != 0 {
                        let d = input.data + cursor * per
                        switch kind {
                        case .patches(let ps): Self.cutPatch(planar, planes: planes, window: w, size: ps, at: (px, py), into: d)
                        default: for q in 0..<planes { d[q] = planar[q * n + py * w + px] }
                        }
                        targets.append((y: y + py, x: x + px))
                        cursor += 1
                        if cursor == capacity { runRows() }
                    }
                }
            }
            if pixels {
                runRows()  // a forward pass never mixes window rows: bands split by rows give the same passes
            } else if !slots.isEmpty {
                let per = net.inputShape.count / batch  // one window's input
                input.data.advanced(by: slots.count * per).update(repeating: 0, count: (batch - slots.count) * per)
                run(slots, y: y)
            }
            // Rows above the next window row's first kept row are final.
            classified += try strips.flush(rows: bands.finalRow(after: j) * f - strips.base, into: sink)
        }
        if let world {
            if rank == 0 { try gather!.receive(into: sink) } else { try gather!.send() }
            windows = Int(try world.allreduce(Int64(windows), op: .sum))
            classified = Int(try world.allreduce(Int64(classified), op: .sum))
        }
        try classes?.finish(overviews: "NEAREST")
        try probs?.finish(overviews: "AVERAGE")
        return PredictionSummary(tile: tile, output: output, probabilities: probabilities, width: gw * f, height: gh * f,
                                 windows: windows, classified: classified)
    }

    /// The P×P patch centred on window pixel `at` (`planes`×W×W at `src`; rows and columns
    /// p − ⌊P/2⌋ … as training cuts them) → planes×P×P at `dst`; what lies outside the window
    /// is 0, as masked pixels are.
    @inline(__always)
    static func cutPatch(_ src: UnsafePointer<Float>, planes: Int, window w: Int, size ps: Int, at p: (x: Int, y: Int),
                         into d: UnsafeMutablePointer<Float>) {
        let n = w * w, r = ps / 2
        let x0 = max(0, r - p.x), x1 = min(ps, w - p.x + r)  // patch columns inside the window
        let y0 = max(0, r - p.y), y1 = min(ps, w - p.y + r)
        if x0 > 0 || y0 > 0 || x1 < ps || y1 < ps { d.update(repeating: 0, count: planes * ps * ps) }
        guard x1 > x0 else { return }
        for q in 0..<planes {
            for y in y0..<max(y0, y1) {
                (d + (q * ps + y) * ps + x0).update(from: src + q * n + (p.y - r + y) * w + p.x - r + x0, count: x1 - x0)
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
