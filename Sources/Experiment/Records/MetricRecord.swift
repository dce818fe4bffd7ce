import Foundation

/// One line of `metrics.jsonl`, one type per kind of line. The trainer writes them; the trainer
/// (final validation), `eval --run` (curves) and `scripts/run_summary.py` read them back by
/// these field names (docs/formats.md). Figures a run may not have (no labelled pixels) are NaN.
public enum MetricRecord {
    case step(StepRecord)
    case validation(ValidationRecord)
    case transfer(TransferRecord)

    /// The record of a JSON line; nil for a line of another type (or none).
    public init?(json o: [String: Any]) {
        switch o["type"] as? String {
        case "step": self = .step(StepRecord(json: o))
        case "validation": self = .validation(ValidationRecord(json: o))
        case "transfer": self = .transfer(TransferRecord(json: o))
        default: return nil
        }
    }

    public var json: [String: Any] {
        switch self {
        case .step(let r): return r.json
        case .validation(let r): return r.json
        case .transfer(let r): return r.json
        }
    }

    public var model: String {
        switch self {
        case .step(let r): return r.model
        case .validation(let r): return r.model
        case .transfer(let r): return r.model
        }
    }

    /// A number field: JSON booleans are not figures; absent or non-numeric is NaN.
    static func number(_ v: Any?) -> Double {
        guard let n = v as? NSNumber, String(cString: n.objCType) != "c" else { return .nan }
        return n.doubleValue
    }
    static func int(_ v: Any?) -> Int { (v as? NSNumber).map(\.intValue) ?? 0 }
}

/// `"type": "step"`: one optimizer step of a model.
public struct StepRecord {
    public var model: String
    public var round: Int, step: Int, globalStep: Int, stepsInRound: Int
    /// Shards of the step's micro-batches, joined by "+".
    public var shard: String
    /// Training loss and overall (pixel or sample) accuracy of the step's batch.
    public var loss: Double, overallAccuracy: Double
    public var samples: Int
    public var seconds: Double, allreduceSeconds: Double, dataWaitSeconds: Double
    /// Unix time at the end of the step.
    public var time: Double
    /// The sync segment it was reported in (set when written).
    public var segment: Int?

    public init(model: String, round: Int, step: Int, globalStep: Int, stepsInRound: Int, shard: String, loss: Double,
                overallAccuracy: Double, samples: Int, seconds: Double, allreduceSeconds: Double, dataWaitSeconds: Double,
                time: Double) {
        (self.model, self.round, self.step, self.globalStep, self.stepsInRound) = (model, round, step, globalStep, stepsInRound)
        (self.shard, self.loss, self.overallAccuracy, self.samples) = (shard, loss, overallAccuracy, samples)
        (self.seconds, self.allreduceSeconds, self.dataWaitSeconds, self.time) = (seconds, allreduceSeconds, dataWaitSeconds, time)
    }

    init(json o: [String: Any]) {
        typealias R = MetricRecord
        self.init(model: o["model"] as? String ?? "", round: R.int(o["round"]), step: R.int(o["step"]),
                  globalStep: R.int(o["global_step"]), stepsInRound: R.int(o["steps_in_round"]), shard: o["shard"] as? String ?? "",
                  loss: R.number(o["loss"]), overallAccuracy: R.number(o["overall_accuracy"]), samples: R.int(o["samples"]),
                  seconds: R.number(o["seconds"]), allreduceSeconds: R.number(o["allreduce_seconds"]),
                  dataWaitSeconds: R.number(o["data_wait_seconds"]), time: R.number(o["time"]))
        segment = (o["segment"] as? NSNumber)?.intValue
    }

    public var json: [String: Any] {
        var o: [String: Any] = [
            "type": "step", "model": model, "round": round, "step": step, "global_step": globalStep, "shard": shard,
            "loss": loss, "overall_accuracy": overallAccuracy, "samples": samples, "seconds": seconds,
            "allreduce_seconds": allreduceSeconds, "data_wait_seconds": dataWaitSeconds, "steps_in_round": stepsInRound, "time": time,
        ]
        if let segment { o["segment"] = segment }
        return o
    }
}

/// `"type": "validation"`: a model scored on held-out samples of some shards (a round's
/// group, or a forest's every shard). The sums make figures over several records exact.
public struct ValidationRecord {
    public var model: String
    public var round: Int
    public var shards: [String]
    public var loss: Double, overallAccuracy: Double
    public var lossSum: Double, weight: Double, correct: Double, counted: Double
    /// Part of the model's final validation (summed over its records).
    public var final: Bool
    /// A random forest's extras: its arch, whether an earlier file was reused, kappa, mean IoU,
    /// trees (nil for neural models).
    public var forest: ForestFigures?
    public var time: Double?
    public var segment: Int?

    public struct ForestFigures {
        public var reused: Bool, kappa: Double, meanIoU: Double, trees: Int
        public init(reused: Bool, kappa: Double, meanIoU: Double, trees: Int) {
            (self.reused, self.kappa, self.meanIoU, self.trees) = (reused, kappa, meanIoU, trees)
        }
    }

    public init(model: String, round: Int, shards: [String], loss: Double, overallAccuracy: Double, lossSum: Double,
                weight: Double, correct: Double, counted: Double, final: Bool, forest: ForestFigures? = nil, time: Double? = nil) {
        (self.model, self.round, self.shards, self.loss, self.overallAccuracy) = (model, round, shards, loss, overallAccuracy)
        (self.lossSum, self.weight, self.correct, self.counted, self.final) = (lossSum, weight, correct, counted, final)
        (self.forest, self.time) = (forest, time)
    }

    init(json o: [String: Any]) {
        typealias R = MetricRecord
        var forest: ForestFigures?
        if o["arch"] as? String == "random_forest" {
            forest = ForestFigures(reused: o["reused"] as? Bool ?? false, kappa: R.number(o["kappa"]), meanIoU: R.number(o["mean_iou"]),
                                   trees: R.int(o["trees"]))
        }
        self.init(model: o["model"] as? String ?? "", round: R.int(o["round"]), shards: o["shards"] as? [String] ?? [],
                  loss: R.number(o["loss"]), overallAccuracy: R.number(o["overall_accuracy"]), lossSum: R.number(o["loss_sum"]),
                  weight: R.number(o["weight"]), correct: R.number(o["correct"]), counted: R.number(o["counted"]),
                  final: o["final"] as? Bool ?? false, forest: forest, time: (o["time"] as? NSNumber)?.doubleValue)
        segment = (o["segment"] as? NSNumber)?.intValue
    }

    public var json: [String: Any] {
        var o: [String: Any] = [
            "type": "validation", "model": model, "round": round, "shards": shards, "overall_accuracy": overallAccuracy,
            "correct": correct, "counted": counted, "final": final,
        ]
        if let f = forest {
            (o["arch"], o["reused"], o["kappa"], o["mean_iou"], o["trees"]) = ("random_forest", f.reused, f.kappa, f.meanIoU, f.trees)
        } else {
            (o["loss"], o["loss_sum"], o["weight"]) = (loss, lossSum, weight)
        }
        if let time { o["time"] = time }
        if let segment { o["segment"] = segment }
        return o
    }
}

/// `"type": "transfer"`: a model's move to its next group (round-robin), timed on the new leader.
public struct TransferRecord {
    public var model: String
    public var round: Int
    public var from: Int
    public var ranks: [Int]
    public var bytes: Int
    public var seconds: Double
    public var time: Double
    public var segment: Int?

    public init(model: String, round: Int, from: Int, ranks: [Int], bytes: Int, seconds: Double, time: Double) {
        (self.model, self.round, self.from, self.ranks, self.bytes, self.seconds, self.time) = (model, round, from, ranks, bytes, seconds, time)
    }

    init(json o: [String: Any]) {
        typealias R = MetricRecord
        self.init(model: o["model"] as? String ?? "", round: R.int(o["round"]), from: R.int(o["from"]),
                  ranks: (o["ranks"] as? [NSNumber])?.map(\.intValue) ?? [], bytes: R.int(o["bytes"]),
                  seconds: R.number(o["transfer_seconds"]), time: R.number(o["time"]))
        segment = (o["segment"] as? NSNumber)?.intValue
    }

    public var json: [String: Any] {
        var o: [String: Any] = ["type": "transfer", "model": model, "round": round, "from": from, "ranks": ranks, "bytes": bytes,
                                "transfer_seconds": seconds, "time": time]
        if let segment { o["segment"] = segment }
        return o
    }
}
