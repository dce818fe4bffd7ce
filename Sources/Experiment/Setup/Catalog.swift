import DataIO
import Engine
import Foundation

/// What rank 0 learns about each shard at start (from the shard's first owner): its sample
/// count and sample shapes. Every rank gets the whole catalog, so every rank can compute the
/// same schedule without opening a shard it does not own.
public struct CatalogEntry: Codable, Sendable, Equatable {
    public var shard: Int
    public var count: Int
    public var image: [Int]
    public var mask: [Int]
    public var soft: [Int]?
    public var hard: [Int]?
    public var target: [Int]?
    public var dateMask: [Int]?
    public var classes: Int
    public var scene: Bool
    public var bands: [String]?
    /// Class names in class order, when the data names them.
    public var classNames: [String]?
    /// Tiles: every usable window as [tile, x, y, size], in dataset order (the spatial split).
    public var windows: [[Int]]?
    /// Per-band statistics of some training samples (when the config asks for statistics).
    public var statistics: BandStatistics?

    public init(_ d: ShardData, statistics: BandStatistics?) {
        let s = d.dataset.shapes
        shard = d.index
        count = d.dataset.count
        image = s.image.dims
        mask = s.mask.dims
        soft = s.soft?.dims
        hard = s.hard?.dims
        target = s.target?.dims
        dateMask = s.dateMask?.dims
        classes = s.classes
        scene = d.sceneLabels
        bands = d.bandNames
        classNames = d.classNames.flatMap { $0.count == s.classes ? $0 : nil }
        windows = d.windows?.map { [$0.tile, $0.x, $0.y, $0.size] }
        self.statistics = statistics
    }

    public var shapes: SampleShapes {
        SampleShapes(image: Shape(image), mask: Shape(mask), soft: soft.map(Shape.init), hard: hard.map(Shape.init),
                     classes: classes, target: target.map(Shape.init), dateMask: dateMask.map(Shape.init))
    }

    /// The usable windows, for the spatial split.
    public var windowRefs: [WindowRef]? { windows?.map { WindowRef(tile: $0[0], x: $0[1], y: $0[2], size: $0[3]) } }

    /// This shard's training and held-out windows (`SpatialSplit`).
    public func split(_ data: DataConfig) -> SpatialSplit {
        SpatialSplit(windows: windowRefs, count: count, fraction: data.validationFraction, shard: data.shards[shard].name,
                     buffer: data.validationBuffer)
    }
}
