import DataIO
import Distributed
import Engine
import Foundation
import Experiment

extension Trainer {
    /// A sync point: reports to rank 0, its decision back. Returns true when the run must stop.
    /// `checkpoint`: the (round, segment) a checkpoint taken here resumes at.
    func meet(round r: Int, segment k: Int, failure: String?, checkpoint: (Int, Int)?) throws -> Bool {
        var report: [String: Any] = ["records": records.map(Self.jsonSafe), "activity": k < 0 ? "end of round \(r)" : "round \(r), segment \(k)"]
        if let failure { report["failure"] = failure }
        records = []
        let text = String(decoding: try JSONSerialization.data(withJSONObject: report), as: UTF8.self)
        var decision = ""
        let span = timeline.begin("sync", category: "sync")
        if let all = try sync.gather(text, activity: activity) {
            var failures: [String] = []
            var recs: [[String: Any]] = []
            for (rank, t) in all.enumerated() {
                guard let o = try? JSONSerialization.jsonObject(with: Data(t.utf8)) as? [String: Any] else { continue }
                if let f = o["failure"] as? String { failures.append(f) }
                activity[rank] = (o["activity"] as? String) ?? activity[rank]
                recs += (o["records"] as? [[String: Any]]) ?? []
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
    func record(_ recs: [[String: Any]], round r: Int, segment k: Int) throws {
        guard let run else { return }
        func key(_ o: [String: Any]) -> (Int, Int, Int) {
            let m = cfg.models.firstIndex { $0.name == (o["model"] as? String) } ?? 0
            let order = ["transfer": 0, "step": 1][(o["type"] as? String) ?? ""] ?? 2
            return (order, m, (o["step"] as? Int) ?? 0)
        }
        let sorted = recs.sorted { key($0) < key($1) }
        defer { clock = nil }
        let sch = setup.schedule
        for var o in sorted {
            o["segment"] = k
            try run.metrics.write(o)
            let name = o["model"] as? String ?? ""
            clock = o["time"] as? Double
            if o["type"] as? String == "step" {
                progress?.update(model: name, round: r, rounds: sch.rounds, step: (o["step"] as? Int ?? 0) + 1,
                                 stepsInRound: o["steps_in_round"] as? Int ?? 0, stepsDone: o["global_step"] as? Int ?? 0,
                                 samples: cfg.batch, loss: o["loss"] as? Double ?? .nan)
            } else if o["type"] as? String == "validation" {
                let acc = o["accuracy"] as? Double ?? .nan, loss = o["loss"] as? Double ?? .nan
                let shards = (o["shards"] as? [String] ?? []).joined(separator: "+")
                let what = r >= sch.rounds ? "final validation" : "validation"
                progress?.roundEnd(model: name, round: r, summary: String(format: "%@ on %@: loss %.4f, accuracy %.1f%%", what, shards, loss, 100 * acc))
                if o["final"] as? Bool == true, let m = cfg.models.firstIndex(where: { $0.name == name }) {
                    var f = finalValidation[m] ?? StepMetrics()
                    f.lossSum += o["loss_sum"] as? Double ?? 0
                    f.weight += o["weight"] as? Double ?? 0
                    f.correct += o["correct"] as? Double ?? 0
                    f.counted += o["counted"] as? Double ?? 0
                    finalValidation[m] = f
                }
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
        func json(_ v: Any) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
        }
        let c = setup.catalog[0], t = cfg.data.tiles
        var out: [String: String] = [
            "rstrain_model": try json(mc.spec),
            "rstrain_data": try json([
                "kind": cfg.data.kind.rawValue, "classes": c.classes, "sample": c.image,
                "window": t.windowSize, "labels": t.labels.rawValue, "resampling": t.resampling.rawValue,
                "resolution": t.resolution ?? NSNull(), "bands": c.bands ?? NSNull(),
                "modality": cfg.data.so2sat.rawValue, "mask_any_date": t.maskAnyDate,
            ] as [String: Any]),
        ]
        switch setup.normalization {
        case .identity: out["rstrain_normalization"] = try json(["type": "none"])
        case .affine(let scale, let offset): out["rstrain_normalization"] = try json(["type": "affine", "scale": scale, "offset": offset])
        case .statistics(let s): out["rstrain_normalization"] = try json(["type": "statistics", "mean": s.mean, "std": s.std, "count": s.count])
        }
        return out
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
