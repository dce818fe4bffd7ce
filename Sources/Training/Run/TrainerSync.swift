import DataIO
import Distributed
import Engine
import Foundation
import Experiment
import Settings

extension Trainer {
    /// A sync point: reports to rank 0, its decision back. Returns true when the run must stop.
    /// `checkpoint`: the (round, segment) a checkpoint taken here resumes at.
    func meet(round r: Int, segment k: Int, failure: String?, checkpoint: (Int, Int)?) throws -> Bool {
        var report: [String: Any] = ["records": records.map { Self.jsonSafe($0.json) }, "activity": k < 0 ? "end of round \(r)" : "round \(r), segment \(k)"]
        if let failure { report["failure"] = failure }
        records = []
        let text = String(decoding: try JSONSerialization.data(withJSONObject: report), as: UTF8.self)
        var decision = ""
        let span = timeline.begin("sync", category: "sync")
        if let all = try sync.gather(text, activity: activity) {
            var failures: [String] = []
            var recs: [MetricRecord] = []
            for (rank, t) in all.enumerated() {
                guard let o = JSONValue.foundationObject(Data(t.utf8)) else { continue }
                if let f = o["failure"] as? String { failures.append(f) }
                activity[rank] = (o["activity"] as? String) ?? activity[rank]
                recs += ((o["records"] as? [[String: Any]]) ?? []).compactMap(MetricRecord.init(json:))
            }
            try record(recs, round: r, segment: k)
            for f in failures { say("rstrain: " + f) }
            decision = failures.isEmpty ? (checkpoint != nil ? "checkpoint" : "go") : "stop"
        }
        decision = try sync.decide(decision, watchdog: watchdog)
        timeline.end(span)
        if decision == "stop" { return true }
        if decision == "checkpoint", let at = checkpoint { try saveCheckpoint(next: at) }
        return false
    }

    /// JSON has no NaN or infinity: they travel (and are written, as JSONLWriter does) as the
    /// strings "nan", "inf", "-inf".
    static func jsonSafe(_ record: [String: Any]) -> [String: Any] {
        record.mapValues { v in
            guard let d = v as? Double, !d.isFinite else { return v }
            return d.isNaN ? "nan" : (d > 0 ? "inf" : "-inf")
        }
    }

    /// Rank 0: writes the gathered records in a fixed order and updates the progress display.
    func record(_ recs: [MetricRecord], round r: Int, segment k: Int) throws {
        guard let run else { return }
        func key(_ rec: MetricRecord) -> (Int, Int, Int) {
            let m = cfg.models.firstIndex { $0.name == rec.model } ?? 0
            switch rec {
            case .transfer: return (0, m, 0)
            case .step(let s): return (1, m, s.step)
            case .validation: return (2, m, 0)
            }
        }
        defer { clock = nil }
        let sch = setup.schedule
        for rec in recs.sorted(by: { key($0) < key($1) }) {
            var o = rec.json
            o["segment"] = k
            try run.metrics.write(Self.jsonSafe(o))
            switch rec {
            case .step(let s):
                clock = s.time
                progress?.update(model: s.model, round: r, rounds: sch.rounds, step: s.step + 1, stepsInRound: s.stepsInRound,
                                 stepsDone: s.globalStep, samples: cfg.batch, loss: s.loss)
            case .validation(let v):
                clock = v.time
                let what = r >= sch.rounds ? "final validation" : "validation"
                progress?.roundEnd(model: v.model, round: r, summary: String(format: "%@ on %@: loss %.4f, accuracy %.1f%%", what,
                                                                             v.shards.joined(separator: "+"), v.loss, 100 * v.overallAccuracy))
                if v.final, let m = cfg.models.firstIndex(where: { $0.name == v.model }) {
                    var f = finalValidation[m] ?? StepMetrics()
                    f.lossSum += v.lossSum.isNaN ? 0 : v.lossSum
                    f.weight += v.weight.isNaN ? 0 : v.weight
                    f.correct += v.correct.isNaN ? 0 : v.correct
                    f.counted += v.counted.isNaN ? 0 : v.counted
                    finalValidation[m] = f
                }
            case .transfer(let t):
                clock = t.time
            }
        }
    }

    /// Brings every model's state to rank 0 (the groups keep theirs).
    func gatherModels() throws {
        let moves = cfg.models.indices.map { Transfer.Move(model: $0, from: holder[$0], to: [0]) }
        try Transfer.run(moves, world: world, group: nil, replica: replica, watchdog: watchdog, hosts: setup.hosts)
    }

    func saveCheckpoint(next: (Int, Int)) throws {
        let span = timeline.begin("checkpoint", category: "checkpoint")
        defer { timeline.end(span) }
        try gatherModels()
        guard let run else { return }
        try run.checkpoint(next: next, config: cfg, schedule: setup.schedule, replicas: cfg.models.indices.map { try replica($0) })
    }

    /// What a final weights file says of how its model saw the data (for `predict`), as JSON texts.
    func metadata(_ m: Int) throws -> [String: String] { try metadata(cfg.models[m]) }

    func metadata(_ mc: ModelConfig) throws -> [String: String] {
        let c = setup.catalog[0], t = cfg.data.tiles
        let colors = c.classNames.map { ClassPalette.hex(ClassPalette.table(names: $0), classes: $0.count) }
        return try WeightsMetadata(
            spec: mc.spec, dataKind: cfg.data.kind.rawValue, classes: c.classes, classNames: c.classNames, classColors: colors,
            sample: c.image, window: t.windowSize, labels: t.labels.rawValue, resampling: t.resampling, resolution: t.resolution,
            bands: c.bands, modality: cfg.data.so2sat.rawValue, maskAnyDate: t.maskAnyDate, normalization: setup.normalization
        ).attributes()
    }

    /// The end: final weights, the final validation figure per model, where the outputs are.
    func finish() throws {
        try gatherModels()
        try timeline.close()
        guard let run else { return }
        progress?.finish()
        var lines: [String] = []
        for m in cfg.models.indices {
            let r = try replica(m)
            let path = try FinalWeights.write(r.parameters, model: cfg.models[m].name, runDir: cfg.runDir, attributes: try metadata(m))
            if let f = finalValidation[m], f.weight > 0 {
                let classes = setup.catalog[0].classes
                if r.model.task == .classification {
                    lines.append(String(format: "  %@: validation accuracy %.1f%% (chance %.1f%%), loss %.4f over %.0f labelled pixels/samples; weights %@",
                                        cfg.models[m].name, 100 * f.accuracy, 100 / Double(classes), f.loss, f.counted, path))
                } else {
                    lines.append(String(format: "  %@: validation loss %.4f; weights %@", cfg.models[m].name, f.loss, path))
                }
            } else {
                lines.append("  \(cfg.models[m].name): no held-out windows to validate on (data.validation_fraction); weights \(path)")
            }
        }
        run.metrics.close()
        say("rstrain: done. Final validation (every shard's held-out windows):")
        for l in lines + forestLines { say(l) }
        say("  metrics: \(cfg.runDir)/metrics.jsonl, schedule: \(cfg.runDir)/schedule.jsonl, checkpoints: \(cfg.runDir)/checkpoints/")
    }
}
