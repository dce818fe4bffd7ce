import Foundation

/// LRSchedule ⇄ JSON objects (JSONSerialization output). Keys by type:
///   {"type":"constant", "lr"}
///   {"type":"step", "lr", "every", "gamma"}
///   {"type":"exponential", "initial", "decay_steps", "decay_rate", "staircase" (default false)}
///   {"type":"cosine", "lr", "total_steps", "min_lr" (default 0)}
///   {"type":"warmup", "steps", "start_factor" (default 0), "schedule": {…}}
/// Unknown keys are errors (a typo must not silently fall back to a default).
extension LRSchedule {
    public init(json: [String: Any]) throws {
        var r = JSONReader(json, context: LRScheduleError.context)
        let type = try r.string("type")
        switch type {
        case "constant":
            self = .constant(lr: try r.float("lr"))
        case "step":
            self = .step(lr: try r.float("lr"), every: try r.int("every"), gamma: try r.float("gamma"))
        case "exponential":
            self = .exponentialDecay(initial: try r.float("initial"), decaySteps: try r.int("decay_steps"),
                                     decayRate: try r.float("decay_rate"),
                                     staircase: try r.bool("staircase", default: false))
        case "cosine":
            self = .cosine(lr: try r.float("lr"), totalSteps: try r.int("total_steps"),
                           minLR: try r.float("min_lr", default: 0))
        case "warmup":
            let steps = try r.int("steps"), start = try r.float("start_factor", default: 0)
            let inner = try r.object("schedule")
            do {
                self = .warmup(steps: steps, startFactor: start, then: try LRSchedule(json: inner))
            } catch let e as LRScheduleError { throw e.nested(in: "schedule") }
        default:
            throw r.error("type", "has unknown value '\(type)' (expected constant, step, exponential, cosine or warmup)")
        }
        try r.rejectUnread()
        try validate()
    }

    /// Parses a JSON text holding one schedule object.
    public init(jsonData: Data) throws {
        guard let obj = try JSONSerialization.jsonObject(with: jsonData) as? [String: Any] else {
            throw LRScheduleError(key: "type", "missing: the schedule is not a JSON object", context: LRScheduleError.context)
        }
        try self.init(json: obj)
    }

    /// The JSON object `init(json:)` reads back to this schedule (for checkpoints and logs).
    public var json: [String: Any] {
        switch self {
        case let .constant(lr):
            return ["type": "constant", "lr": Double(lr)]
        case let .step(lr, every, gamma):
            return ["type": "step", "lr": Double(lr), "every": every, "gamma": Double(gamma)]
        case let .exponentialDecay(initial, decaySteps, decayRate, staircase):
            return ["type": "exponential", "initial": Double(initial), "decay_steps": decaySteps,
                    "decay_rate": Double(decayRate), "staircase": staircase]
        case let .cosine(lr, totalSteps, minLR):
            return ["type": "cosine", "lr": Double(lr), "total_steps": totalSteps, "min_lr": Double(minLR)]
        case let .warmup(steps, startFactor, then):
            return ["type": "warmup", "steps": steps, "start_factor": Double(startFactor), "schedule": then.json]
        }
    }
}
