import Engine

/// What a read found.
public struct WindowStatus: Sendable, Equatable {
    /// Fraction of the window's pixels that count.
    public let validFraction: Double
    /// True when more than `maxNodataFraction` of the window is masked: the sample's mask is
    /// filled, the other buffers are not (do not train on it).
    public let skipped: Bool

    public init(validFraction: Double, skipped: Bool) {
        self.validFraction = validFraction
        self.skipped = skipped
    }
}

/// Reads windows of a `WindowGrid` into `WindowSample`s. It owns its GDAL handles (opened on
/// first use, at most `maxOpenFiles` kept): use one reader per thread, never share one.
///
/// A read fills, in order: the label (its NODATA and its extent mask pixels; a window already
/// over the NODATA threshold stops here), the target, the image bands of every date (resampled
/// onto the target grid; NODATA or NaN in any band masks the pixel — or, with a date mask, only
/// that date of it, the pixel when every date is missing), then zeroes every masked pixel in
/// image, labels and target (−1 in hard labels) and every missing date, and applies the
/// augmentation to all of them alike. Any failure — a truncated file, a block GDAL cannot decode — throws a
/// `DataError` naming the file; a window is never silently zero-filled.
public final class WindowReader {
    public let grid: WindowGrid
    public let maxOpenFiles: Int
    private var rasters: [String: Raster] = [:]
    private var lru: [String] = []
    private var states: [Int: TileState] = [:]
    private var floatScratch: [Float] = []
    private var doubleScratch: [Double] = []
    private var cover = AreaSampler.Cover()
    private var transformers: [Augmentation: PlaneTransformer] = [:]

    final class TileState {
        let plan: TilePlan
        var label: AreaSampler?
        var target: AreaSampler?
        init(plan: TilePlan) { self.plan = plan }
    }

    public init(grid: WindowGrid, maxOpenFiles: Int = 64) {
        self.grid = grid
        self.maxOpenFiles = max(1, maxOpenFiles)
        if let bytes = grid.options.blockCacheBytes { GDAL.cacheBytes = bytes }
    }

    /// Buffers shaped for this grid's windows.
    public func makeSample() -> WindowSample { WindowSample(layout: grid.layout) }

    /// Reads `window` into `sample`'s buffers (see the type's notes).
    @discardableResult
    public func read(_ window: WindowRef, into sample: WindowSample, augmentation: Augmentation = .identity) throws -> WindowStatus {
        let layout = grid.layout
        precondition(sample.layout == layout, "sample layout \(sample.layout) differs from the grid's \(layout)")
        precondition(window.size == layout.size, "window size \(window.size) differs from the grid's \(layout.size)")
        let state = try tileState(window.tile)
        let plan = state.plan
        let (s, n) = (layout.size, layout.pixels)
        let mask = sample.mask.data
        sample.window = window
        sample.validFraction = 0

        // Pixels off the target grid never count.
        for r in 0..<s {
            let inRow = window.y + r < plan.grid.height
            for c in 0..<s { mask[r * s + c] = inRow && window.x + c < plan.grid.width ? 1 : 0 }
        }
        if layout.labels != .none { try readLabel(state, window, sample) }
        if layout.targetBands > 0 { try readTarget(state, window, sample) }
        let maxNodata = grid.options.maxNodataFraction
        var valid = Self.validFraction(mask, n)
        if 1 - valid > maxNodata {
            sample.validFraction = valid
            return WindowStatus(validFraction: valid, skipped: true)
        }
        try readImage(plan, window, sample)
        valid = Self.validFraction(mask, n)
        sample.validFraction = valid

        // Masked in one, masked in all. Image plane q is band q / T at date q % T; with a date
        // mask, a missing date counts as masked for that plane (the date mask is 0 wherever
        // the pixel mask is).
        let planes = layout.imageShape.count / n
        for q in 0..<planes {
            let img = sample.image.data + q * n
            let m = sample.dateMask.map { $0.data + (q % layout.dates) * n } ?? mask
            for p in 0..<n where m[p] == 0 { img[p] = 0 }
        }
        if let pr = sample.proportions {
            for k in 0..<layout.classes { for p in 0..<n where mask[p] == 0 { pr.data[k * n + p] = 0 } }
        }
        if let h = sample.hardLabels { for p in 0..<n where mask[p] == 0 { h[p] = -1 } }
        if let t = sample.target {
            for b in 0..<layout.targetBands { for p in 0..<n where mask[p] == 0 { t.data[b * n + p] = 0 } }
        }
        if !augmentation.isIdentity { augment(sample, augmentation) }
        return WindowStatus(validFraction: valid, skipped: 1 - valid > maxNodata)
    }

    /// The windows (all of the grid's, or `windows`) whose masked fraction is within the
    /// threshold, in the order given. Reads every window once.
    public func scan(_ windows: [WindowRef]? = nil) throws -> [WindowRef] {
        let sample = makeSample()
        return try (windows ?? grid.windows).filter { !(try read($0, into: sample).skipped) }
    }

    /// Closes every file this reader opened (they reopen on the next read).
    public func close() {
        rasters.removeAll()
        lru.removeAll()
    }

    static func validFraction(_ mask: UnsafeMutablePointer<Float>, _ n: Int) -> Double {
        var k = 0
        for p in 0..<n where mask[p] != 0 { k += 1 }
        return Double(k) / Double(n)
    }

    // MARK: - Parts

    /// Reads every band at every date; NODATA or NaN clears the pixel mask, or with a date
    /// mask that date's plane of it (a pixel then stays valid while any date is whole).
    private func readImage(_ plan: TilePlan, _ w: WindowRef, _ sample: WindowSample) throws {
        let layout = grid.layout
        let (n, dates) = (layout.pixels, layout.dates)
        let mask = sample.mask.data
        let dateMask = sample.dateMask?.data
        if let dateMask {
            // Off the grid or without a label: missing at every date.
            for t in 0..<dates { (dateMask + t * n).update(from: mask, count: n) }
        }
        for (c, bi) in plan.bands.enumerated() {
            let band = plan.tile.bands[bi]
            for t in 0..<dates {
                let src = band.sources[t]
                let dst = sample.image.data + (c * dates + t) * n
                try BandResampler.read(src, raster: raster(src.path), onto: plan.grid, x: w.x, y: w.y, size: layout.size,
                                       resampling: grid.options.resampling, into: dst, scratch: &floatScratch)
                let m = dateMask.map { $0 + t * n } ?? mask
                if let nd = src.noData.map({ Float($0) }), !nd.isNaN {
                    for p in 0..<n where dst[p].isNaN || dst[p] == nd { m[p] = 0 }
                } else {
                    for p in 0..<n where dst[p].isNaN { m[p] = 0 }
                }
            }
        }
        if let dateMask {
            for p in 0..<n where mask[p] != 0 {
                var any = false
                for t in 0..<dates where dateMask[t * n + p] != 0 { any = true; break }
                if !any { mask[p] = 0 }
            }
        }
    }

    private func readLabel(_ state: TileState, _ w: WindowRef, _ sample: WindowSample) throws {
        let plan = state.plan
        let sampler = try state.label ?? {
            let a = try AreaSampler(plan.tile.label!, grid: plan.grid, imageCRS: plan.tile.crs, imagePath: plan.tile.bands[0].sources[0].path)
            state.label = a
            return a
        }()
        let (n, k) = (grid.layout.pixels, grid.layout.classes)
        let mask = sample.mask.data
        let table = plan.classes!
        let loaded = try sampler.load(x: w.x, y: w.y, size: w.size, bands: [1], cover: &cover, values: &doubleScratch,
                                      raster: raster(sampler.info.path))
        var classOf = [Int32](repeating: -1, count: loaded ? cover.rect.width * cover.rect.height : 0)
        for i in classOf.indices { classOf[i] = table.index(of: doubleScratch[i]) }
        var acc = [Double](repeating: 0, count: k)
        let props = sample.proportions?.data
        for p in 0..<n {
            for j in 0..<k { acc[j] = 0 }
            var total = 0.0
            if loaded {
                for e in cover.start[p]..<cover.start[p + 1] {
                    let cls = Int(classOf[Int(cover.index[e])])
                    guard cls >= 0 else { continue }
                    acc[cls] += cover.weight[e]
                    total += cover.weight[e]
                }
            }
            if !(total > 0) { mask[p] = 0 }
            if let props {
                for j in 0..<k { props[j * n + p] = total > 0 ? Float(acc[j] / total) : 0 }
            } else if let hard = sample.hardLabels {
                var best = -1, bestW = 0.0
                for j in 0..<k where acc[j] > bestW { best = j; bestW = acc[j] }
                hard[p] = Int32(best)
            }
        }
    }

    private func readTarget(_ state: TileState, _ w: WindowRef, _ sample: WindowSample) throws {
        let plan = state.plan
        let sampler = try state.target ?? {
            let a = try AreaSampler(plan.tile.target!, grid: plan.grid, imageCRS: plan.tile.crs, imagePath: plan.tile.bands[0].sources[0].path)
            state.target = a
            return a
        }()
        let info = sampler.info
        let (n, bands) = (grid.layout.pixels, grid.layout.targetBands)
        let mask = sample.mask.data, out = sample.target!.data
        let loaded = try sampler.load(x: w.x, y: w.y, size: w.size, bands: Array(1...bands), cover: &cover,
                                      values: &doubleScratch, raster: raster(info.path))
        let plane = cover.rect.width * cover.rect.height
        for b in 0..<bands {
            let nd = info.noData[b]
            for p in 0..<n {
                var sum = 0.0, total = 0.0
                if loaded {
                    for e in cover.start[p]..<cover.start[p + 1] {
                        let v = doubleScratch[b * plane + Int(cover.index[e])]
                        guard !v.isNaN, v != nd else { continue }
                        sum += cover.weight[e] * v
                        total += cover.weight[e]
                    }
                }
                if total > 0 { out[b * n + p] = Float(sum / total) } else { out[b * n + p] = 0; mask[p] = 0 }
            }
        }
    }

    private func augment(_ sample: WindowSample, _ a: Augmentation) {
        let layout = grid.layout
        let n = layout.pixels
        let t = transformers[a] ?? PlaneTransformer(a, size: layout.size)
        transformers[a] = t
        if floatScratch.count < n { floatScratch = [Float](repeating: 0, count: n) }
        floatScratch.withUnsafeMutableBufferPointer { buf in
            let scratch = buf.baseAddress!
            for q in 0..<(layout.imageShape.count / n) { t.apply(sample.image.data + q * n, scratch: scratch) }
            t.apply(sample.mask.data, scratch: scratch)
            if let pr = sample.proportions { for k in 0..<layout.classes { t.apply(pr.data + k * n, scratch: scratch) } }
            if let tg = sample.target { for b in 0..<layout.targetBands { t.apply(tg.data + b * n, scratch: scratch) } }
            if let dm = sample.dateMask { for d in 0..<layout.dates { t.apply(dm.data + d * n, scratch: scratch) } }
        }
        if let h = sample.hardLabels {
            let tmp = UnsafeMutablePointer<Int32>.allocate(capacity: n)
            defer { tmp.deallocate() }
            t.apply(h.baseAddress!, scratch: tmp)
        }
    }

    // MARK: - Handles

    private func tileState(_ i: Int) throws -> TileState {
        if let s = states[i] { return s }
        guard i >= 0, i < grid.plans.count else {
            throw DataError(path: grid.repository.path, "no tile \(i) (the repository has \(grid.plans.count))")
        }
        let s = TileState(plan: grid.plans[i])
        states[i] = s
        return s
    }

    private func raster(_ path: String) throws -> Raster {
        if let r = rasters[path] {
            if lru.last != path, let k = lru.firstIndex(of: path) { lru.remove(at: k); lru.append(path) }
            return r
        }
        let r = try Raster(path)
        rasters[path] = r
        lru.append(path)
        while lru.count > maxOpenFiles { rasters.removeValue(forKey: lru.removeFirst()) }
        return r
    }
}
