import DataIO

/// run_dir/final/random_forest.json: the forest and what applying it needs (the normalisation
/// and band order of its features), with how it was grown.
public struct ForestFile: Codable, Equatable, Sendable {
    public var format = "rstrain-random-forest"
    public var version = 1
    public var forest: RandomForest
    public var normalization: Normalization
    /// Band names in feature order (a time series: each band's dates in turn); nil: unknown.
    public var bands: [String]?
    /// Decimal text: a UInt64 seed need not fit a JSON reader's Double.
    public var seed: String
    public var options: TreeOptions
    public var samplesPerShard: Int
    /// Whether leaf frequencies were refitted on every shard's sample (`Baseline.Options.refitLeaves`).
    public var refitLeaves: Bool
    public var shards: [Shard]

    public struct Shard: Codable, Equatable, Sendable {
        public var name: String
        /// Training pixels sampled from the shard.
        public var pixels: Int
        public var trees: Int
    }

    public init(forest: RandomForest, normalization: Normalization, bands: [String]?, seed: UInt64, options: TreeOptions,
         samplesPerShard: Int, refitLeaves: Bool, shards: [Shard]) {
        self.forest = forest
        self.normalization = normalization
        self.bands = bands
        self.seed = "\(seed)"
        self.options = options
        self.samplesPerShard = samplesPerShard
        self.refitLeaves = refitLeaves
        self.shards = shards
    }
}
