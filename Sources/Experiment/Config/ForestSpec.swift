import Settings

/// A `models[i]` entry whose model is `{"arch": "random_forest", ...}`: the forest baseline as a
/// model of the run (docs/config.md). Its keys and defaults are `Baseline.Options`'.
public struct ForestSpec: Equatable, Sendable {
    public enum Features: String, Sendable { case pixel, patch }

    public var trees = 100
    public var maxDepth = 16
    public var minSamplesLeaf = 1
    public var samplesPerShard = 20_000
    public var features = Features.pixel
    /// P for P×P patches ("patch" features; 1 for "pixel").
    public var patch = 1
    public var refitLeaves = true

    public init() {}

    /// Parses a spec already known to have arch "random_forest"; the reader's path is its JSON
    /// path (`models[1].model`) for errors.
    public init(_ spec: ConfigReader) throws {
        var r = spec
        _ = try r.string("arch")
        func positive(_ k: String, _ d: Int) throws -> Int {
            guard r.has(k) else { return try r.int(k, default: d) }
            guard let v = try? r.int(k), v >= 1 else { throw r.error(k, "must be a positive integer") }
            return v
        }
        trees = try positive("trees", trees)
        maxDepth = try positive("max_depth", maxDepth)
        minSamplesLeaf = try positive("min_samples_leaf", minSamplesLeaf)
        samplesPerShard = try positive("samples_per_shard", samplesPerShard)
        features = try r.choice("features", default: .pixel)
        refitLeaves = try r.bool("refit_leaves", default: true)
        if features == .patch {
            patch = try positive("patch", 3)
            guard patch % 2 == 1 else { throw r.error("patch", "must be odd (the patch is centred on its pixel), got \(patch)") }
        } else if r.has("patch") {
            throw r.error("patch", "applies to \"features\": \"patch\" only")
        }
        try r.rejectUnknown()
    }
}
