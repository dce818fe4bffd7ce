import DataIO
import Distributed
import Engine
import Foundation
import Experiment

/// `rstrain eval --config CONFIG.json`: a trained model (`final/<model>.h5`) scored on the run's
/// validation set — every shard's held-out windows, split and normalised exactly as the trainer
/// did — as a confusion matrix over the counted pixels, overall and per shard. Under mpirun each
/// rank scores the windows of its shards (a shard's windows dealt over its owners as in the
/// trainer's validation) and the Int64 counts are summed, so the figures do not depend on the
/// number of ranks.
public struct RunEvaluation {
    public struct Shard {
        public let name: String
        public let tally: ClassTally
        public let metrics: ClassificationMetrics
    }

    public let configPath: String
    public let runDir: String
    public let model: String
    public let weightsPath: String
    /// Whether the soft agreement is reported (`--soft`; the run's labels are proportions).
    public let soft: Bool
    public let tally: ClassTally
    public let metrics: ClassificationMetrics
    public let shards: [Shard]
    /// One label per class: the first shard's class names (tiles with a class table), else numbers.
    public let classLabels: [String]

    /// Scores each named model (every model of the config when `models` is empty), on every rank
    /// of `world` together; every rank returns the same figures. Errors name the file or key.
    public static func make(configPath: String, models: [String], soft: Bool, world: Communicator) throws -> [RunEvaluation] {
        let setup: RunSetup
        do { setup = try RunSetup.make(configPath: configPath, world: world) } catch let f as RunSetup.Failed {
            // Each problem names its file and key already.
            throw EvalError(f.problems.joined(separator: "\n"))
        }
        let cfg = setup.config
        let names = cfg.models.map(\.name) + cfg.forests.map(\.name)
        for name in models where !names.contains(name) {
            throw EvalError("\(configPath): no model named '\(name)' (models: \(names.joined(separator: ", ")))")
        }
        if soft, setup.catalog[0].shapes.soft == nil {
            throw EvalError("\(configPath): --soft needs proportions as the reference, but data.labels gives hard labels")
        }
        // The trainer's BLAS threads: the same arithmetic, hence the same arg-max.
        BLAS.threads = cfg.blasThreads
        // Neural models by index, forests after them (index ≥ models.count).
        let chosen = models.isEmpty ? Array(names.indices) : models.map { names.firstIndex(of: $0)! }
        return try chosen.map { i in
            i < cfg.models.count ? try evaluate(model: i, setup: setup, soft: soft, configPath: configPath)
                : try evaluateForest(cfg.forests[i - cfg.models.count], setup: setup, soft: soft, configPath: configPath)
        }
    }

    static func evaluate(model m: Int, setup: RunSetup, soft: Bool, configPath: String) throws -> RunEvaluation {
        let cfg = setup.config, world = setup.world, mc = cfg.models[m]
        let path = FinalWeights.path(model: mc.name, runDir: cfg.runDir)
        let rep = try ModelReplica(index: m, config: mc, feed: setup.feeds[m], microBatch: cfg.microBatch,
                                   sample: setup.catalog[0].shapes, reduction: cfg.reduction)
        guard rep.model.task != .regression else {
            throw EvalError("\(configPath): model \(mc.name) is a regression model; eval --config scores class predictions")
        }
        // Every rank loads (the file is on shared storage like the run directory); all or none fail.
        var failed: Int32 = 0, message = ""
        do { try WeightsFile.load(rep.parameters, from: path) } catch { failed = 1; message = "\(error)" }
        if try world.allreduce(failed, op: .max) > 0 {
            throw EvalError(message.isEmpty ? "\(path): cannot be loaded on another rank" : "\(path): \(message)")
        }
        let k = rep.model.outputShape.channels, n = cfg.data.shards.count, me = world.rank
        var tallies = (0..<n).map { _ in ClassTally(classes: k) }
        for s in 0..<n {
            guard let d = setup.shards[s] else { continue }
            // The trainer's validation batches: chunks of micro_batch windows, dealt over the owners.
            let val = setup.split[s].validation, mb = cfg.microBatch, owners = setup.placement.owners[s]
            let chunks = stride(from: 0, to: val.count, by: mb).map { Array(val[$0..<min($0 + mb, val.count)]) }
            let plan = chunks.enumerated().filter { owners[$0.offset % owners.count] == me }.map { PlannedBatch(indices: $0.element, epoch: 0) }
            guard !plan.isEmpty else { continue }
            let l = Loader(d.evaluationDataset, plan: plan, seed: cfg.seed ^ stableHash(d.config.name), workers: cfg.data.workers,
                           prefetch: 4, normalization: setup.normalization)
            defer { l.close() }
            while let b = try l.next() { rep.tally(b, into: &tallies[s]); l.recycle(b) }
        }
        // Shard by shard: K² counts and the outside count (Int64, exact), the soft sums (Double).
        var counts = tallies.flatMap { $0.confusion + [$0.outside] }
        var sums = tallies.flatMap { [$0.agreed, $0.mass] }
        try counts.withUnsafeMutableBufferPointer { try world.allreduce($0, op: .sum) }
        try sums.withUnsafeMutableBufferPointer { try world.allreduce($0, op: .sum) }
        var total = ClassTally(classes: k)
        var shards: [Shard] = []
        for s in 0..<n {
            var t = ClassTally(classes: k)
            let o = s * (k * k + 1)
            t.confusion = Array(counts[o..<(o + k * k)])
            t.outside = counts[o + k * k]
            (t.agreed, t.mass) = (sums[2 * s], sums[2 * s + 1])
            for i in 0..<(k * k) { total.confusion[i] += t.confusion[i] }
            total.outside += t.outside
            total.agreed += t.agreed
            total.mass += t.mass
            shards.append(Shard(name: cfg.data.shards[s].name, tally: t, metrics: t.metrics))
        }
        return RunEvaluation(configPath: configPath, runDir: cfg.runDir, model: mc.name, weightsPath: path, soft: soft, tally: total,
                             metrics: total.metrics, shards: shards, classLabels: classLabels(setup, classes: k))
    }

    /// The names of the first shard's class table (its shard.json "classes", named as the
    /// trainer and predict name them, from the catalog) when the data are tiles whose table has
    /// `k` classes; else the class numbers.
    static func classLabels(_ setup: RunSetup, classes k: Int) -> [String] {
        let numbers = (0..<k).map(String.init)
        guard setup.config.data.kind == .tiles, let names = setup.catalog.first?.classNames, names.count == k else { return numbers }
        return names
    }
}
