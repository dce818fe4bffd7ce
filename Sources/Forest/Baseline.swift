import DataIO
import Distributed
import Engine
import Foundation
import Experiment

/// `rstrain baseline`: a random-forest pixel classifier on the run config's shards, as the
/// reference the deep models are compared with. No pixel leaves its rank: each shard's first
/// owner samples pixels from the shard's training windows and grows that shard's share of the
/// trees; rank 0 gathers the trees (JSON), every rank receives the whole forest, each shard's
/// first owner scores it on the shard's validation windows, and the confusion counts are summed.
/// A shard's sample and trees depend on (seed, shard) alone, so any placement grows the same forest.
public enum Baseline {
    public struct Options: Sendable {
        public var trees = 100
        public var tree = TreeOptions()
        public var samplesPerShard = 20_000
        /// nil: the config's seed.
        public var seed: UInt64?
        /// Replace the leaves' class frequencies by the counts of every shard's training sample
        /// (summed over ranks), so a tree grown on one shard votes with all shards' classes.
        public var refitLeaves = true
        /// P: each pixel's features are its P×P neighbourhood (1: the pixel alone).
        public var patch = 1
        public init() {}

        public init(trees: Int, maxDepth: Int, minSamplesLeaf: Int, samplesPerShard: Int, seed: UInt64?,
                    refitLeaves: Bool, patch: Int = 1) {
            self.trees = trees
            tree = TreeOptions(maxDepth: maxDepth, minSamplesLeaf: minSamplesLeaf)
            self.samplesPerShard = samplesPerShard
            self.seed = seed
            self.refitLeaves = refitLeaves
            self.patch = patch
        }
    }

    public static func main(configPath: String, options: Options) -> Int32 {
        MPIJob.run("rstrain") { world in
            let say = MPIJob.speaker(world)
            do {
                let setup = try RunSetup.make(configPath: configPath, world: world)
                return try run(setup, options: options, say: say)
            } catch let f as RunSetup.Failed {
                f.report("before the baseline", rank: world.rank, say: say)
                throw SharedFailure([], status: 2)  // printed above, on the baseline's output
            }
        }
    }

    /// One shard's part of the forest, as rank 0 gathers it.
    public struct ShardTrees: Codable {
        var shard: Int
        var pixels: Int
        var trees: [DecisionTree]
    }

    /// What each rank reports after sampling.
    private struct Sampled: Codable {
        var pixels: [Int: Int] = [:]
        var problems: [String] = []
    }

    /// The forest grown on every rank together, as every rank has it.
    public struct Grown {
        public var forest: RandomForest
        public var seed: UInt64
        /// Training pixels sampled and trees grown per shard.
        public var shards: [ForestFile.Shard]
    }

    /// Samples, grows, gathers and (optionally) refits the forest; every rank returns the same
    /// forest. `label` starts rank 0's line about the sample.
    public static func grow(_ setup: RunSetup, options: Options, label: String, say: (String) -> Void) throws -> Grown {
        let world = setup.world, cfg = setup.config
        let names = cfg.data.shards.map(\.name)
        let shapes = setup.catalog[0].shapes
        if let p = PixelReader.problem(shapes) { throw RunSetup.Failed(problems: ["data: " + p]) }
        guard options.trees > 0, options.samplesPerShard > 0, options.tree.maxDepth > 0, options.tree.minSamplesLeaf > 0,
              options.patch > 0, options.patch % 2 == 1 else {
            throw RunSetup.Failed(problems: ["trees, samples per shard, max depth and min samples per leaf must be > 0, the patch odd"])
        }
        let seed = options.seed ?? cfg.seed
        let mine = setup.placement.shards(of: world.rank).filter { setup.placement.owners[$0].first == world.rank }
        let readers = Dictionary(uniqueKeysWithValues: mine.map { ($0, reader(setup, shard: $0, patch: options.patch)) })
        let features = shapes.image.count / shapes.mask.count * options.patch * options.patch, classes = shapes.classes

        // 1. Sample each owned shard's training pixels.
        var samples: [Int: PixelSamples] = [:]
        var report = Sampled()
        for s in mine {
            do {
                let d = try sample(readers[s]!, windows: setup.split[s].train, limit: options.samplesPerShard,
                                   seed: shardSeed(seed, s, names[s]))
                if d.count == 0 { report.problems.append("shard \(names[s]): no labelled pixels in its \(setup.split[s].train.count) training windows") }
                samples[s] = d
                report.pixels[s] = d.count
            } catch {
                report.problems.append("rank \(world.rank) (\(world.hostname)): shard \(names[s]): \(error)")
            }
        }
        let reports = try world.allgather(string: String(decoding: try JSONEncoder().encode(report), as: UTF8.self))
            .map { try JSONDecoder().decode(Sampled.self, from: Data($0.utf8)) }
        let problems = reports.flatMap(\.problems)
        guard problems.isEmpty else { throw RunSetup.Failed(problems: problems) }
        var pixels = [Int](repeating: 0, count: names.count)
        for r in reports { for (s, n) in r.pixels { pixels[s] = n } }
        let share = apportion(trees: options.trees, pixels: pixels)
        if world.rank == 0 {
            say("\(label): \(pixels.reduce(0, +)) training pixels from \(names.count) shard\(names.count == 1 ? "" : "s"), \(share.reduce(0, +)) trees (\(features) features, \(classes) classes)")
        }

        // 2. Grow each owned shard's trees; gather them on rank 0 in shard order.
        var grown: [ShardTrees] = []
        for s in mine {
            let f = RandomForest.grow(samples[s]!, trees: share[s], options: options.tree, seed: shardSeed(seed, s, names[s]))
            grown.append(ShardTrees(shard: s, pixels: pixels[s], trees: f.trees))
        }
        let parts = try world.gather(string: String(decoding: try JSONEncoder().encode(grown), as: UTF8.self), root: 0)
        var text = ""
        if let parts {
            let all = try parts.flatMap { try JSONDecoder().decode([ShardTrees].self, from: Data($0.utf8)) }.sorted { $0.shard < $1.shard }
            text = String(decoding: try RandomForest(classes: classes, features: features, trees: all.flatMap(\.trees)).json(), as: UTF8.self)
        }
        // 3. Every rank gets the forest.
        text = try world.broadcast(string: text, root: 0)
        var forest = try RandomForest(json: Data(text.utf8), source: "the broadcast forest")
        if options.refitLeaves {
            // Only leaf counts travel: Int64 sums, so the refit is exact on any number of ranks.
            var counts = [Int64](repeating: 0, count: forest.leafCountOffsets.count)
            for s in mine { forest.countLeaves(samples[s]!, into: &counts) }
            try counts.withUnsafeMutableBufferPointer { try world.allreduceSum($0) }
            forest = forest.refitted(counts)
        }
        let shards = names.indices.map { ForestFile.Shard(name: names[$0], pixels: pixels[$0], trees: share[$0]) }
        return Grown(forest: forest, seed: seed, shards: shards)
    }

    /// Shard `s`'s windows as forest rows (normalised as training).
    public static func reader(_ setup: RunSetup, shard s: Int, patch: Int) -> PixelReader {
        PixelReader(dataset: setup.shards[s]!.evaluationDataset, normalization: setup.normalization, patch: patch)
    }

    /// The forest on every shard's validation windows, one tally per shard summed over ranks
    /// (each shard's first owner scores it; Int64 counts, so any rank count agrees).
    public static func tallies(_ forest: RandomForest, _ setup: RunSetup, patch: Int) throws -> [ClassTally] {
        let world = setup.world, n = setup.config.data.shards.count, k = forest.classes, kk = k * k
        var counts = [Int64](repeating: 0, count: n * kk)
        for s in setup.placement.shards(of: world.rank) where setup.placement.owners[s].first == world.rank {
            var c = [Int64](repeating: 0, count: kk)
            try evaluate(forest, reader(setup, shard: s, patch: patch), windows: setup.split[s].validation, confusion: &c)
            counts.replaceSubrange(s * kk..<(s + 1) * kk, with: c)
        }
        try counts.withUnsafeMutableBufferPointer { try world.allreduceSum($0) }
        return (0..<n).map { s in
            var t = ClassTally(classes: k)
            t.confusion = Array(counts[s * kk..<(s + 1) * kk])
            return t
        }
    }

    public static func run(_ setup: RunSetup, options: Options, say: (String) -> Void) throws -> Int32 {
        let world = setup.world, cfg = setup.config
        let names = cfg.data.shards.map(\.name)
        let grown = try grow(setup, options: options, label: "random_forest", say: say)
        let forest = grown.forest, seed = grown.seed, classes = forest.classes
        let tallies = try tallies(forest, setup, patch: options.patch)
        let file: ForestFile? = world.rank == 0
            ? ForestFile(forest: forest, normalization: setup.normalization, bands: setup.catalog[0].bands, seed: seed,
                         options: options.tree, samplesPerShard: options.samplesPerShard, refitLeaves: options.refitLeaves,
                         shards: grown.shards)
            : nil
        let kk = classes * classes
        let perShard = tallies.flatMap(\.confusion)

        guard world.rank == 0, let file else { return 0 }
        let shardMetrics = names.indices.map { BaselineFigures(confusion: Array(perShard[$0 * kk..<($0 + 1) * kk]), classes: classes) }
        let metrics = BaselineFigures(confusion: (0..<kk).map { i in shardMetrics.reduce(0) { $0 + $1.confusion[i] } }, classes: classes)
        let acc = metrics.accuracy
        let percent = acc.isNaN ? "nan" : String(format: "%.2f%%", 100 * acc)
        say("random_forest: validation accuracy \(percent) over \(metrics.total) pixels (chance 1/\(classes))")
        if names.count > 1 {
            for (s, m) in shardMetrics.enumerated() {
                let a = m.accuracy.isNaN ? "nan" : String(format: "%.2f%%", 100 * m.accuracy)
                say("random_forest:   \(names[s]): \(a) over \(m.total) pixels")
            }
        }
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: cfg.runDir + "/final", withIntermediateDirectories: true)
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            try e.encode(file).write(to: URL(fileURLWithPath: forestPath(runDir: cfg.runDir)), options: .atomic)
            var m = metrics.json()
            m["trees"] = file.forest.trees.count
            m["seed"] = "\(seed)"
            m["max_depth"] = options.tree.maxDepth
            m["min_samples_leaf"] = options.tree.minSamplesLeaf
            m["samples_per_shard"] = options.samplesPerShard
            m["shards"] = file.shards.enumerated().map { s, e in
                ["name": e.name, "training_pixels": e.pixels, "trees": e.trees,
                 "validation_pixels": shardMetrics[s].total, "validation_accuracy": shardMetrics[s].accuracy] as [String: Any]
            }
            m["forest"] = "final/random_forest.json"
            m["refit_leaves"] = options.refitLeaves
            try Data((try JSONText.encode(m) + "\n").utf8).write(to: URL(fileURLWithPath: cfg.runDir + "/baseline.json"), options: .atomic)
        } catch {
            throw DataError(path: cfg.runDir, "cannot write the baseline results: \(error)")
        }
        return 0
    }

    public static func forestPath(runDir: String) -> String { runDir + "/final/random_forest.json" }

    /// Shard `s`'s seed: the same whichever rank owns it.
    public static func shardSeed(_ seed: UInt64, _ s: Int, _ name: String) -> UInt64 {
        CounterRandom.key(CounterRandom.key(seed, UInt64(s)), stableHash(name))
    }

    /// Trees per shard in proportion to its pixels (largest remainders, ties to the lower
    /// shard), then at least one each; the total is `trees` unless shards outnumber it.
    public static func apportion(trees: Int, pixels: [Int]) -> [Int] {
        let total = pixels.reduce(0, +)
        guard total > 0 else { return pixels.map { _ in 1 } }
        let exact = pixels.map { Double(trees) * Double($0) / Double(total) }
        var out = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { (exact[$0] - Double(out[$0]), -$0) > (exact[$1] - Double(out[$1]), -$1) }
        for i in order.prefix(trees - out.reduce(0, +)) { out[i] += 1 }
        return out.map { max($0, 1) }
    }

    /// Up to `limit` valid pixels from `windows`: the windows in a seeded order, at most
    /// ⌈limit / windows⌉ pixels from each (a seeded choice), so the sample spreads over the shard.
    public static func sample(_ reader: PixelReader, windows: [Int], limit: Int, seed: UInt64) throws -> PixelSamples {
        var out = PixelSamples(features: reader.features, classes: reader.shapes.classes)
        guard !windows.isEmpty else { return out }
        var rng = SplitMix64(seed: seed)
        var order = windows
        order.shuffle(using: &rng)
        let quota = (limit + order.count - 1) / order.count
        // Windows are read in chunks so a large shard stops being read once the sample is full.
        var start = 0
        while start < order.count, out.count < limit {
            let chunk = Array(order[start..<min(start + 4 * PixelReader.batchSize, order.count)])
            try reader.forEachWindow(chunk) { _, x, y in
                var idx = Array(y.indices)
                let take = min(quota, idx.count, limit - out.count)
                // Partial Fisher–Yates: the first `take` of a seeded shuffle.
                for i in 0..<take {
                    let j = i + Int(rng.next() % UInt64(idx.count - i))
                    idx.swapAt(i, j)
                }
                x.withUnsafeBufferPointer { xp in
                    for i in idx.prefix(take) { out.append(xp.baseAddress! + i * reader.features, label: y[i]) }
                }
            }
            start += chunk.count
        }
        return out
    }

    /// Adds the forest's predictions on every valid pixel of `windows` to `confusion` (true × predicted).
    public static func evaluate(_ forest: RandomForest, _ reader: PixelReader, windows: [Int], confusion: inout [Int64]) throws {
        let k = forest.classes
        var p = [Float](repeating: 0, count: k)
        try reader.forEachWindow(windows) { _, x, y in
            x.withUnsafeBufferPointer { xp in
                p.withUnsafeMutableBufferPointer { pp in
                    for i in y.indices {
                        let c = forest.predict(xp.baseAddress! + i * reader.features, scratch: pp.baseAddress!)
                        confusion[Int(y[i]) * k + c] += 1
                    }
                }
            }
        }
    }
}

extension Baseline.Options {
    /// The options of a run config's `random_forest` entry; the forest's seed is the run's.
    public init(_ spec: ForestSpec, seed: UInt64) {
        self.init(trees: spec.trees, maxDepth: spec.maxDepth, minSamplesLeaf: spec.minSamplesLeaf,
                  samplesPerShard: spec.samplesPerShard, seed: seed, refitLeaves: spec.refitLeaves, patch: spec.patch)
    }
}
