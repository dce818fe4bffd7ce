import DataIO
import Engine
import Foundation

/// One shard opened as the config says: its dataset (every usable sample, in a stable order)
/// and what `inspect` and the catalog report about it.
public final class ShardData {
    public let index: Int
    public let config: DataConfig.Shard
    public let dataset: SampleDataset
    /// The same samples without augmentation (validation).
    public let evaluationDataset: SampleDataset
    /// Band names in channel order (tiles), if known.
    public let bandNames: [String]?
    /// Class names in class order: a tile repository's class table (shard.json), a chip
    /// folder's class folders; nil when the data names none.
    public let classNames: [String]?
    /// Tile repositories: the window grid (before skipping windows with too much NODATA).
    public let grid: WindowGrid?
    /// Samples before NODATA skipping (tiles), else `dataset.count`.
    public let candidates: Int

    /// Opens shard `index` as rank `rank` on `host` sees it (its path's `{host}`/`{rank}`);
    /// every failure is a `DataError` naming the file (or a ConfigError).
    public init(index: Int, data: DataConfig, host: String = ProcessInfo.processInfo.hostName, rank: Int = 0) throws {
        self.index = index
        var shard = data.shards[index]
        shard.path = shard.path(host: host, rank: rank)
        config = shard
        guard FileManager.default.fileExists(atPath: shard.path) else {
            throw DataError(path: shard.path, "does not exist (data.shards[\(index)])")
        }
        switch data.kind {
        case .tiles:
            let repo = try TileRepository(path: shard.path)
            let g = try WindowGrid(repo, options: data.tiles)
            let reader = WindowReader(grid: g)
            let usable = try reader.scan()
            reader.close()
            dataset = try WindowDataset(grid: g, windows: usable, augment: data.augment)
            evaluationDataset = data.augment ? try WindowDataset(grid: g, windows: usable, augment: false) : dataset
            grid = g
            bandNames = g.bandNames
            classNames = repo.manifest.classes.map { $0.map { $0.name ?? "class \(Int($0.value))" } }
            candidates = g.windows.count
        case .so2sat:
            dataset = try So2SatDataset(path: shard.path, modality: data.so2sat, rows: shard.rows)
            evaluationDataset = dataset
            grid = nil
            bandNames = nil
            classNames = nil
            candidates = dataset.count
        case .chips:
            let chips = try ChipFolderDataset(root: shard.path, validate: true)
            dataset = chips
            evaluationDataset = dataset
            grid = nil
            bandNames = nil
            classNames = chips.classNames
            candidates = dataset.count
        }
        guard dataset.count > 0 else {
            throw DataError(path: shard.path, "has no usable samples (\(candidates) before NODATA skipping; data.max_nodata_fraction is \(data.tiles.maxNodataFraction))")
        }
    }

    /// Tiles: the usable windows in dataset order; nil for So2Sat rows and chips.
    public var windows: [WindowRef]? { (dataset as? WindowDataset)?.windows }

    /// This shard's training and held-out samples, as every rank computes them from the catalog.
    public func split(_ data: DataConfig) -> SpatialSplit {
        SpatialSplit(windows: windows, count: dataset.count, fraction: data.validationFraction, shard: config.name,
                     buffer: data.validationBuffer)
    }

    /// Whether samples carry labels per sample (scene classification) rather than per pixel.
    public var sceneLabels: Bool {
        let s = dataset.shapes
        return s.hard.map { $0.dims.isEmpty } ?? false || s.soft.map { $0.dims.count == 1 } ?? false
    }

    /// Per-band statistics of up to `limit` training samples (the first ones of `indices`).
    public func statistics(indices: [Int], limit: Int = 64) throws -> BandStatistics {
        try BandStatistics.compute(dataset, indices: Array(indices.prefix(limit)), batchSize: 16, bandNames: bandNames)
    }
}

extension SampleShapes {
    /// A one-line description compared across shards ("image 10×64×64, soft 10×64×64, 10 classes").
    public var summary: String {
        var s = "image \(image.dims.map(String.init).joined(separator: "×"))"
        if let soft { s += ", proportions \(soft.dims.map(String.init).joined(separator: "×"))" }
        if let hard { s += ", labels \(hard.dims.isEmpty ? "per sample" : hard.dims.map(String.init).joined(separator: "×"))" }
        if let target { s += ", targets \(target.dims.map(String.init).joined(separator: "×"))" }
        return s + ", \(classes) classes"
    }
}
