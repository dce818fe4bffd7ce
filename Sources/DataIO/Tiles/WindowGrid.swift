import Engine

/// One window: the S×S pixels from (x, y) of tile `tile`'s target grid. A window may reach
/// past the grid when the tile is smaller than S; those pixels are masked.
public struct WindowRef: Sendable, Hashable, CustomStringConvertible {
    /// Index into the repository's (sorted) tiles.
    public let tile: Int
    public let x: Int
    public let y: Int
    public let size: Int

    public init(tile: Int, x: Int, y: Int, size: Int) {
        self.tile = tile
        self.x = x
        self.y = y
        self.size = size
    }

    public var description: String { "tile \(tile) window (\(x), \(y)) \(size)×\(size)" }
}

/// The options resolved against one tile: which bands, on which grid, over which region.
public struct TilePlan: Sendable {
    public let tile: Tile
    public let tileIndex: Int
    /// The target grid windows are cut from.
    public let grid: GeoGrid
    /// Indices into `tile.bands`, in channel order.
    public let bands: [Int]
    /// Pixels of `grid` where the image, the label and the target (those read) intersect.
    public let region: PixelRect
    /// Label value → class index (nil when labels are not read).
    public let classes: ClassTable?
}

/// Every window of a repository, in a stable order: tiles by name, then rows, then columns.
/// Window origins are multiples of the stride from the grid's origin (so with a stride that is
/// a multiple of the TIFF block size each window reads whole blocks), plus a last window
/// flush with the right or bottom edge when the stride does not reach it; only windows that
/// meet the image ∩ label region are kept. A value type: build it once and share it.
public struct WindowGrid: Sendable {
    public let repository: TileRepository
    public let options: TileOptions
    public let plans: [TilePlan]
    public let layout: SampleLayout
    /// Channel names (the first tile's band names).
    public let bandNames: [String]
    public let windows: [WindowRef]

    public init(_ repository: TileRepository, options: TileOptions = TileOptions()) throws {
        let o = options
        guard o.windowSize > 0, o.effectiveStride > 0 else {
            throw DataError(path: repository.path, "window size \(o.windowSize) and stride \(o.effectiveStride) must be positive")
        }
        guard o.maxNodataFraction >= 0, o.maxNodataFraction <= 1 else {
            throw DataError(path: repository.path, "the NODATA fraction \(o.maxNodataFraction) is not in [0, 1]")
        }
        if let r = o.resolution, !(r > 0) { throw DataError(path: repository.path, "resolution \(r) is not positive") }
        self.repository = repository
        self.options = o

        var plans: [TilePlan] = []
        var layout: SampleLayout?
        var names: [String] = []
        var windows: [WindowRef] = []
        for (ti, tile) in repository.tiles.enumerated() {
            let bands = try Self.select(o.bands, in: tile, sensor: repository.manifest.sensor,
                                        manifest: repository.path + "/" + TileRepository.manifestName)
            let grid = tile.grid(resolution: o.resolution)
            var region = PixelRect(x0: 0, y0: 0, x1: grid.width, y1: grid.height)
            var classes: ClassTable?
            if o.labels != .none {
                guard let fp = tile.labelFootprint else {
                    throw DataError(path: tile.path + "/" + TileRepository.labelName, "missing: labels were asked for (label mode \(o.labels.rawValue))")
                }
                classes = try repository.classTable(for: tile, count: o.classCount)
                region = region.intersection(grid.pixelRect(covering: fp) ?? PixelRect(x0: 0, y0: 0, x1: 0, y1: 0))
            }
            var targetBands = 0
            if o.readTarget {
                guard let t = tile.target, let fp = tile.targetFootprint else {
                    throw DataError(path: tile.path + "/" + TileRepository.targetName, "missing: regression targets were asked for")
                }
                targetBands = t.bandCount
                region = region.intersection(grid.pixelRect(covering: fp) ?? PixelRect(x0: 0, y0: 0, x1: 0, y1: 0))
            }
            let l = SampleLayout(channels: bands.count, dates: tile.dateCount, size: o.windowSize,
                                 timeSeries: !tile.dates.isEmpty, labels: o.labels,
                                 classes: classes?.count ?? 0, targetBands: targetBands,
                                 dateMask: !tile.dates.isEmpty && !o.maskAnyDate)
            // Bands chosen by name keep the names asked for (common names stay common).
            let tileNames = o.bands.map { $0.enumerated().map { i, s in
                if case .name(let n) = s { return n }
                return tile.bands[bands[i]].name
            } } ?? bands.map { tile.bands[$0].name }
            if let first = layout {
                if first != l {
                    throw DataError(path: tile.path, "gives \(Self.describe(l)) windows but tile \(repository.tiles[0].name) gives \(Self.describe(first)): every tile must give the same shapes")
                }
                if o.bands == nil, tileNames != names {
                    throw DataError(path: tile.path, "has bands \(tileNames) but tile \(repository.tiles[0].name) has \(names): choose bands by name")
                }
            } else {
                layout = l
                names = tileNames
            }
            let plan = TilePlan(tile: tile, tileIndex: ti, grid: grid, bands: bands, region: region, classes: classes)
            plans.append(plan)
            guard !region.isEmpty else { continue }
            let xs = Self.origins(size: grid.width, window: o.windowSize, stride: o.effectiveStride, from: region.x0, to: region.x1)
            let ys = Self.origins(size: grid.height, window: o.windowSize, stride: o.effectiveStride, from: region.y0, to: region.y1)
            for y in ys { for x in xs { windows.append(WindowRef(tile: ti, x: x, y: y, size: o.windowSize)) } }
        }
        self.plans = plans
        self.layout = layout!
        self.bandNames = names
        self.windows = windows
    }

    /// Window origins along one axis of `size` pixels: multiples of `stride` whose window fits,
    /// plus one flush with the end when those miss it (0 alone when the axis is shorter than
    /// the window), keeping those that meet [from, to).
    static func origins(size: Int, window: Int, stride: Int, from: Int, to: Int) -> [Int] {
        var p: [Int] = []
        if size <= window {
            p = [0]
        } else {
            var v = 0
            while v + window <= size { p.append(v); v += stride }
            if p.last! + window < size { p.append(size - window) }
        }
        return p.filter { $0 < to && $0 + window > from }
    }

    static func select(_ selectors: [TileOptions.BandSelector]?, in tile: Tile, sensor: String? = nil,
                       manifest: String = "shard.json") throws -> [Int] {
        guard let selectors else { return Array(tile.bands.indices) }
        guard !selectors.isEmpty else { throw DataError(path: tile.path, "no bands chosen") }
        let files = Set(tile.bands.map { $0.sources[0].path })
        let available = tile.bands.map(\.name).joined(separator: ", ")
        return try selectors.map { s in
            switch s {
            case .name(let n):
                let common = CommonBandNames.names.contains(n) && tile.bandIndex(named: n) == nil
                let found = common ? try CommonBandNames.band(n, sensor: sensor, in: tile.bands.map(\.name), manifest: manifest)
                    : tile.bandIndex(named: n)
                guard let i = found else {
                    let file = files.count == 1 && tile.bands.count > 1 ? files.first! : "\(tile.path)/\(n).tif"
                    throw DataError(path: file, "missing band '\(n)' (tile \(tile.name) has: \(available))")
                }
                return i
            case .index(let i):
                guard i >= 1, i <= tile.bands.count else {
                    let file = files.count == 1 ? files.first! : tile.path
                    throw DataError(path: file, "missing band #\(i) (tile \(tile.name) has \(tile.bands.count) bands: \(available))")
                }
                return i - 1
            }
        }
    }

    static func describe(_ l: SampleLayout) -> String {
        var s = "image \(l.imageShape)"
        if let ls = l.labelShape { s += ", label \(ls)" }
        if let t = l.targetShape { s += ", target \(t)" }
        return s
    }

    /// The windows in a seeded random order, different each epoch, the same on every machine.
    public func shuffled(seed: UInt64, epoch: Int = 0) -> [WindowRef] {
        var w = windows
        var rng = SplitMix64(seed: CounterRandom.key(seed, UInt64(truncatingIfNeeded: epoch)))
        if w.count > 1 {
            for i in stride(from: w.count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                w.swapAt(i, j)
            }
        }
        return w
    }

    /// `count` windows drawn at random (with replacement), seeded.
    public func randomWindows(count: Int, seed: UInt64) -> [WindowRef] {
        guard !windows.isEmpty else { return [] }
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in windows[Int(rng.next() % UInt64(windows.count))] }
    }

    /// "tile-name (x, y)" for messages.
    public func name(of w: WindowRef) -> String { "\(plans[w.tile].tile.name) (\(w.x), \(w.y))" }
}
