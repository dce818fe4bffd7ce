import Dispatch
import Foundation

/// `rstrain synth`: realistic synthetic data for demos and tests, deterministic for a seed.
///
/// Each shard is a region somewhere in Europe (its own UTM zone, kind of country and class mix,
/// acquisition dates); its tiles are adjacent pieces of one continuous landscape. See
/// docs/data.md for the layout written and docs/synth.md for what the data looks like.
public enum Synth {
    /// Writes every shard of `options` and says what it wrote. `log` gets one line per shard.
    @discardableResult
    public static func generate(_ options: SynthOptions, log: (String) -> Void = { _ in }) throws -> SynthReport {
        try options.validate()
        let start = DispatchTime.now().uptimeNanoseconds
        let fm = FileManager.default
        try fm.createDirectory(atPath: options.outDir, withIntermediateDirectories: true)
        let existing = (0..<options.shards).map(options.shardPath).filter { fm.fileExists(atPath: $0) }
        if !existing.isEmpty {
            guard options.overwrite else {
                throw DataError(path: existing[0], "already exists\(existing.count > 1 ? " (and \(existing.count - 1) more shards)" : ""); pass --overwrite to replace")
            }
            for p in existing { try fm.removeItem(atPath: p) }
        }

        var shards: [SynthReport.Shard]
        switch options.preset {
        case .so2sat:
            shards = try (0..<options.shards).map { try So2SatWriter.writeShard(options, index: $0) }
        case .sentinel2, .landsat:
            shards = try writeTileShards(options)
        }
        for s in shards { log(s.summary) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        return SynthReport(shards: shards, seconds: seconds)
    }

    /// Memory the tiles in flight may use together, bytes.
    static let memoryBudget = 4 << 30

    /// Tile presets: shards × tiles written in parallel (each tile is independent; GDAL handles
    /// one dataset per thread).
    private static func writeTileShards(_ options: SynthOptions) throws -> [SynthReport.Shard] {
        let regions = (0..<options.shards).map { Region(options, shard: $0) }
        for (i, r) in regions.enumerated() {
            let dir = options.shardPath(i)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try r.writeShardJSON(dir)
        }
        let jobs = (0..<options.shards).flatMap { s in (0..<options.tilesPerShard).map { (s, $0) } }
        let results = Collector<TileResult>(count: jobs.count)
        // A tile in flight holds about 80 bytes a pixel (class map, bands as floats, encoded
        // bands): at most `memoryBudget` of them at once, whatever the core count.
        let perTile = options.size * options.size * 80
        let slots = DispatchSemaphore(value: max(1, memoryBudget / perTile))
        DispatchQueue.concurrentPerform(iterations: jobs.count) { j in
            slots.wait()
            defer { slots.signal() }
            let (s, t) = jobs[j]
            results.set(j, Result {
                let dir = options.shardPath(s) + "/" + regions[s].tileName(t)
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                switch options.preset {
                case .sentinel2: return try Sentinel2Writer.writeTile(regions[s], tile: t, dir: dir, options: options)
                default: return try LandsatWriter.writeTile(regions[s], tile: t, dir: dir, options: options)
                }
            })
        }
        var shards = regions.enumerated().map { i, r in
            SynthReport.Shard(path: options.shardPath(i), region: r.kind.name, crs: "EPSG:\(r.epsg)",
                              dates: r.dates.map(\.description), items: options.tilesPerShard,
                              classCounts: [Int](repeating: 0, count: ClassSpectra.classCount + 1), files: 1)
        }
        for (j, r) in results.values.enumerated() {
            let tile = try r!.get()
            let s = jobs[j].0
            for (v, c) in tile.classCounts.enumerated() { shards[s].classCounts[v] += c }
            shards[s].files += tile.files
        }
        return shards
    }
}

/// What one tile wrote.
struct TileResult {
    var classCounts: [Int]
    var files: Int
}

/// Results filled in from concurrent jobs, each into its own slot.
final class Collector<T>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<T, Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<T, Error>) {
        lock.lock()
        values[i] = r
        lock.unlock()
    }
}

/// What `Synth.generate` wrote.
public struct SynthReport: Sendable {
    public struct Shard: Sendable {
        public var path: String
        /// The kind of country (farmland, forested hills, ...) or city type (so2sat).
        public var region: String
        public var crs: String
        public var dates: [String]
        /// Tiles, or patches for so2sat.
        public var items: Int
        /// Label pixels (patches for so2sat) per class value; index 0 counts NODATA.
        public var classCounts: [Int]
        public var files: Int

        var summary: String {
            let total = max(classCounts.dropFirst().reduce(0, +), 1)
            let names = path.hasSuffix(".h5") ? LocalClimateZones.names : ClassSpectra.classes.map(\.name)
            let mix = classCounts.enumerated().dropFirst()
                .filter { $0.element > 0 }
                .sorted { $0.element > $1.element }
                .prefix(5)
                .map { "\(names[$0.offset - 1]) \(Int((100 * Double($0.element) / Double(total)).rounded()))%" }
                .joined(separator: ", ")
            let what = path.hasSuffix(".h5") ? "\(items) patches" : "\(items) tiles × \(dates.count) date\(dates.count == 1 ? "" : "s")"
            return "\(path): \(region), \(what), \(crs), \(files) files; \(mix)"
        }
    }

    public var shards: [Shard]
    public var seconds: Double
}

/// One shard's region: where it is, what kind of country, its landscape and its dates.
struct Region: Sendable {
    let index: Int
    let key: UInt64
    let kind: RegionKind
    let zone: Int
    let epsg: Int
    let landscape: Landscape
    /// Upper-left corners of the tiles, map coordinates.
    let tileOrigins: [(x: Double, y: Double)]
    let dates: [CalendarDate]
    let preset: SynthPreset
    let seed: UInt64
    let tileDigits: Int

    init(_ options: SynthOptions, shard: Int) {
        index = shard
        preset = options.preset
        seed = options.seed
        key = Noise.key(Noise.key(options.seed, options.preset.rawValue), shard)
        // Consecutive shards are different kinds of country; the seed picks where the cycle starts.
        let kinds = RegionKind.all
        kind = kinds[(shard + Int(Noise.hash(Noise.key(options.seed, "kinds"), 0, 0) % UInt64(kinds.count))) % kinds.count]
        zone = 29 + Int(Noise.hash(key, 1, 0) % 7)                       // 9°W … 33°E
        epsg = ProjectedGrid.utmNorth(zone: zone)
        let res: Double = options.preset == .landsat ? 30 : 10
        let extent = Double(options.size) * res
        let cols = Int(Double(options.tilesPerShard).squareRoot().rounded(.up))
        let rows = (options.tilesPerShard + cols - 1) / cols
        // Centre: easting 400–600 km, northing 4700–5900 km (about 42°N–53°N), on a 60 m grid so
        // 10, 20 and 30 m pixels all align.
        let snap = 60.0
        let cx = ((400_000 + 200_000 * Double(Noise.unit(Noise.hash(key, 2, 0)))) / snap).rounded() * snap
        let cy = ((4_700_000 + 1_200_000 * Double(Noise.unit(Noise.hash(key, 3, 0)))) / snap).rounded() * snap
        let x0 = cx - (Double(cols) * extent / 2 / snap).rounded() * snap
        let y0 = cy + (Double(rows) * extent / 2 / snap).rounded() * snap
        tileOrigins = (0..<options.tilesPerShard).map { t in
            (x0 + Double(t % cols) * extent, y0 - Double(t / cols) * extent)
        }
        landscape = Landscape(key: Noise.key(key, "landscape"), kind: kind, centreX: cx, centreY: cy,
                              halfExtent: Double(min(cols, rows)) * extent / 2)
        dates = Phenology.dates(count: options.dates, revisit: options.preset == .landsat ? 8 : 5, key: Noise.key(key, "dates"))
        tileDigits = max(2, String(options.tilesPerShard - 1).count)
    }

    func tileName(_ t: Int) -> String {
        let n = String(t)
        return "tile_" + String(repeating: "0", count: max(0, tileDigits - n.count)) + n
    }

    func tileKey(_ t: Int) -> UInt64 { Noise.key(Noise.key(key, "tile"), t) }

    /// Renders tile `t` at every date on `grid` and hands each date's folder (the tile folder
    /// for a single date, a YYYY-MM-DD subfolder otherwise), reflectances (bands × H × W) and
    /// NODATA mask (swath edge plus that date's gaps and, by option, clouds) to `write`.
    func renderDates(tile t: Int, dir: String, grid: ProjectedGrid, map: ClassMap, spectra: ClassSpectra,
                     options: SynthOptions,
                     _ write: (_ folder: String, _ date: CalendarDate, _ values: [Float], _ mask: [Bool]) throws -> Void) throws {
        let tileKey = tileKey(t)
        let edge = NoDataMask.swathEdge(width: grid.width, height: grid.height, key: tileKey)
        for (d, date) in dates.enumerated() {
            let folder = dates.count == 1 ? dir : dir + "/" + date.description
            if dates.count > 1 { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            let dateKey = Noise.key(tileKey, d)
            var mask = edge
            NoDataMask.addGaps(&mask, width: grid.width, height: grid.height, key: dateKey)
            let renderer = SceneRenderer(spectra: spectra, dayOfYear: Float(date.dayOfYear), clouds: clouds(d),
                                         cloudsAsNoData: options.cloudsAsNoData, noiseKey: dateKey,
                                         regionKey: landscape.key)
            let values = renderer.reflectance(grid: grid, map: map, noData: &mask)
            try write(folder, date, values, mask)
        }
    }

    /// The clouds of date `d` (one layer per region and date: clouds continue across tiles).
    func clouds(_ d: Int) -> CloudLayer {
        let k = Noise.key(Noise.key(key, "clouds"), d)
        return CloudLayer(key: k, cover: CloudLayer.cover(key: k, dates: dates.count))
    }

    func writeShardJSON(_ dir: String) throws {
        let bands: [(name: String, resolution: Int)]
        switch preset {
        case .sentinel2: bands = Sentinel2Writer.bandFiles.map { ($0.name, $0.resolution) }
        default: bands = ClassSpectra.landsat.bands.map { ($0, 30) }
        }
        // The Landsat preset numbers its bands as Landsat 8–9 do (B2…B7).
        let sensor = preset == .landsat ? "landsat8" : preset.rawValue
        try RepositoryWriter.writeShardJSON(dir, sensor: sensor, bands: bands, classes: ClassSpectraTable.classes)
    }

    /// GDAL metadata every raster of this region carries.
    func metadata(_ extra: [String: String] = [:]) -> [String: String] {
        var m = ["SYNTHETIC": "rstrain synth --preset \(preset.rawValue) --seed \(seed) (shard \(index): \(kind.name))"]
        m.merge(extra) { $1 }
        return m
    }
}
