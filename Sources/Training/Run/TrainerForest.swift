import DataIO
import Engine
import Foundation
import Experiment
import Forest
import Settings

extension Trainer {
    /// The config's random_forest entries, before the neural schedule starts: every rank grows
    /// each forest with the baseline's machinery (the forest does not depend on the rank count),
    /// it is scored on every shard's held-out windows, and rank 0 writes final/<name>.h5 and a
    /// final validation record. A valid final/<name>.h5 grown from the same spec, data and seed
    /// is reused rather than regrown (unless --restart).
    func growForests() throws {
        for mc in cfg.forests {
            let spec = mc.forest!
            let path = FinalWeights.path(model: mc.name, runDir: cfg.runDir)
            var attrs = try metadata(mc)
            let key = forestKey(mc)
            // Rank 0 decides whether the file can be reused and sends the forest (or nothing).
            var text = ""
            if world.rank == 0, !restart, FileManager.default.fileExists(atPath: path), let c = try? ForestWeights.read(path),
               WeightsMetadata.attributeNames.allSatisfy({ c.attributes[$0] == attrs[$0] }),
               c.patch == spec.patch, forestInfo(c.attributes)["key"] as? String == key {
                text = String(decoding: try c.forest.json(), as: UTF8.self)
            }
            text = try world.broadcast(string: text, root: 0)
            let forest: RandomForest, reused = !text.isEmpty
            var shards: [[String: Any]] = []
            if reused {
                forest = try RandomForest(json: Data(text.utf8), source: path)
                say("rstrain: \(mc.name): reusing \(path) (same random_forest spec, data and seed)")
            } else {
                // Not under the watchdog: growing is long computation, not a stall.
                let grown = try Baseline.grow(setup, options: Baseline.Options(spec, seed: cfg.seed), label: "rstrain: \(mc.name)", say: say)
                forest = grown.forest
                shards = grown.shards.map { ["name": $0.name, "training_pixels": $0.pixels, "trees": $0.trees] }
            }
            let tallies = try Baseline.tallies(forest, setup, patch: spec.patch)
            guard let run else { continue }
            if !reused {
                attrs.removeValue(forKey: "rstrain_forest")
                try ForestWeights.write(forest, patch: spec.patch, info: ["key": key, "seed": "\(cfg.seed)", "shards": shards],
                                        attributes: attrs, to: path)
            }
            var total = ClassTally(classes: forest.classes)
            for t in tallies { for i in total.confusion.indices { total.confusion[i] += t.confusion[i] } }
            let m = total.metrics, correct = (0..<forest.classes).reduce(Int64(0)) { $0 + total.confusion[$1 * forest.classes + $1] }
            let counted = total.confusion.reduce(0, +)
            let accuracy = counted > 0 ? Double(correct) / Double(counted) : .nan
            let figures = ValidationRecord.ForestFigures(reused: reused, kappa: m.kappa ?? .nan, meanIoU: m.meanIoU ?? .nan,
                                                         trees: forest.trees.count)
            let record = ValidationRecord(model: mc.name, round: 0, shards: cfg.data.shards.map(\.name), loss: .nan,
                                          overallAccuracy: accuracy, lossSum: .nan, weight: .nan, correct: Double(correct),
                                          counted: Double(counted), final: true, forest: figures, time: Date().timeIntervalSince1970)
            try run.metrics.write(Self.jsonSafe(record.json))
            forestLines.append(counted > 0
                ? String(format: "  %@: validation accuracy %.1f%% (chance %.1f%%) over %lld labelled pixels (random forest, %d trees); weights %@",
                         mc.name, 100 * accuracy, 100 / Double(forest.classes), counted, forest.trees.count, path)
                : "  \(mc.name): no held-out windows to validate on (data.validation_fraction); random forest \(path)")
        }
    }

    /// What decides a forest besides its spec: the seed and the data section (minus placement
    /// and loader settings), as a hash; a file with another key is regrown.
    func forestKey(_ mc: ModelConfig) -> String {
        RunConfig.hash(["data": cfg.resultData, "seed": "\(cfg.seed)", "model": mc.spec])
    }

    private func forestInfo(_ attrs: [String: String]) -> [String: Any] {
        attrs["rstrain_forest"].flatMap { JSONValue.foundationObject(Data($0.utf8)) } ?? [:]
    }
}
