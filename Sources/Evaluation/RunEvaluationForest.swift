import DataIO
import Foundation
import Experiment
import Forest

extension RunEvaluation {
    /// A random_forest entry scored like a neural model: final/<name>.h5 applied to every
    /// shard's held-out windows (the trainer's split and normalisation), by the same code the
    /// trainer's final validation uses, so the figures equal its metrics.jsonl record. The forest
    /// has no soft outputs: with --soft its soft accuracy is left out.
    static func evaluateForest(_ mc: ModelConfig, setup: RunSetup, soft: Bool, configPath: String) throws -> RunEvaluation {
        let cfg = setup.config, world = setup.world, spec = mc.forest!
        let path = FinalWeights.path(model: mc.name, runDir: cfg.runDir)
        // Every rank reads (shared storage, like the run directory); all or none fail.
        var failed: Int32 = 0, message = "", contents: ForestWeights.Contents?
        do {
            let c = try ForestWeights.read(path)
            if c.patch != spec.patch { throw DataError(path: path, "holds a forest on \(c.patch)×\(c.patch) patches, but \(configPath) asks for \(spec.patch)") }
            if c.forest.classes != setup.catalog[0].classes {
                throw DataError(path: path, "holds a forest of \(c.forest.classes) classes, but the data have \(setup.catalog[0].classes)")
            }
            contents = c
        } catch { failed = 1; message = "\(error)" }
        if try world.allreduce(failed, op: .max) > 0 {
            throw EvalError(message.isEmpty ? "\(path): cannot be loaded on another rank" : message)
        }
        let tallies = try Baseline.tallies(contents!.forest, setup, patch: spec.patch)
        var total = ClassTally(classes: contents!.forest.classes)
        for t in tallies { for i in total.confusion.indices { total.confusion[i] += t.confusion[i] } }
        let shards = tallies.enumerated().map { Shard(name: cfg.data.shards[$0.offset].name, tally: $0.element, metrics: $0.element.metrics) }
        return RunEvaluation(configPath: configPath, runDir: cfg.runDir, model: mc.name, weightsPath: path, soft: soft, tally: total,
                             metrics: total.metrics, shards: shards, classLabels: classLabels(setup, classes: total.classes))
    }
}
