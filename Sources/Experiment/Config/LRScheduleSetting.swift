import Engine
import Settings

/// LRSchedule ⇄ the `schedule` setting (docs/config.md). Keys by type:
///   {"type":"constant", "lr"}
///   {"type":"step", "lr", "every", "gamma"}
///   {"type":"exponential", "initial", "decay_steps", "decay_rate", "staircase" (default false)}
///   {"type":"cosine", "lr", "total_steps", "min_lr" (default 0)}
///   {"type":"warmup", "steps", "start_factor" (default 0), "schedule": {…}}
/// Unknown keys are errors (a typo must not silently fall back to a default), and so are values
/// `rate(step:)` cannot honour: negative or non-finite rates, non-positive periods.
extension LRSchedule {
    public static let settingContext = "learning-rate schedule"

    /// Reads a schedule object; errors name the key by its path from `r` ("schedule.min_lr"
    /// inside a warm-up).
    public init(_ r: ConfigReader) throws {
        var r = r
        let type = try r.string("type")
        switch type {
        case "constant":
            self = .constant(lr: try r.rate("lr"))
        case "step":
            self = .step(lr: try r.rate("lr"), every: try r.period("every"), gamma: try r.rate("gamma"))
        case "exponential":
            self = .exponentialDecay(initial: try r.rate("initial"), decaySteps: try r.period("decay_steps"),
                                     decayRate: try r.rate("decay_rate"), staircase: try r.bool("staircase", default: false))
        case "cosine":
            self = .cosine(lr: try r.rate("lr"), totalSteps: try r.period("total_steps"), minLR: try r.rate("min_lr", default: 0))
        case "warmup":
            let steps = try r.int("steps")
            guard steps >= 0 else { throw r.error("steps", "must be ≥ 0, got \(steps)") }
            let start = try r.float("start_factor", default: 0)
            guard start.isFinite, start >= 0, start <= 1 else { throw r.error("start_factor", "must be in [0, 1], got \(start)") }
            self = .warmup(steps: steps, startFactor: start, then: try LRSchedule(try r.object("schedule")))
        default:
            throw r.error("type", "has unknown value '\(type)' (expected constant, step, exponential, cosine or warmup)")
        }
        try r.rejectUnknown()
    }

    /// A schedule on its own (errors in the context "learning-rate schedule").
    public init(setting: JSONValue) throws {
        guard let o = setting.object else {
            throw ConfigError(key: "type", "missing: the schedule is not a JSON object", context: Self.settingContext)
        }
        try self.init(ConfigReader(o, context: Self.settingContext))
    }

    /// The setting `init(setting:)` reads back to this schedule.
    public var setting: JSONValue {
        switch self {
        case let .constant(lr):
            return ["type": "constant", "lr": JSONValue(lr)]
        case let .step(lr, every, gamma):
            return ["type": "step", "lr": JSONValue(lr), "every": JSONValue(every), "gamma": JSONValue(gamma)]
        case let .exponentialDecay(initial, decaySteps, decayRate, staircase):
            return ["type": "exponential", "initial": JSONValue(initial), "decay_steps": JSONValue(decaySteps),
                    "decay_rate": JSONValue(decayRate), "staircase": .bool(staircase)]
        case let .cosine(lr, totalSteps, minLR):
            return ["type": "cosine", "lr": JSONValue(lr), "total_steps": JSONValue(totalSteps), "min_lr": JSONValue(minLR)]
        case let .warmup(steps, startFactor, then):
            return ["type": "warmup", "steps": JSONValue(steps), "start_factor": JSONValue(startFactor), "schedule": then.setting]
        }
    }
}

private extension ConfigReader {
    /// A rate or factor: finite and ≥ 0.
    mutating func rate(_ k: String, default d: Float? = nil) throws -> Float {
        let v = try d.map { try float(k, default: $0) } ?? float(k)
        guard v.isFinite, v >= 0 else { throw error(k, "must be a finite number ≥ 0, got \(v)") }
        return v
    }

    /// A number of steps: > 0.
    mutating func period(_ k: String) throws -> Int {
        let v = try int(k)
        guard v > 0 else { throw error(k, "must be > 0, got \(v)") }
        return v
    }
}
