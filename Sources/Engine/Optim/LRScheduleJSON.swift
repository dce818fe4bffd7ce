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
        var r = Reader(json)
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
            throw LRScheduleError(key: "type", "has unknown value '\(type)' (expected constant, step, exponential, cosine or warmup)")
        }
        try r.rejectUnread()
        try validate()
    }

    /// Parses a JSON text holding one schedule object.
    public init(jsonData: Data) throws {
        guard let obj = try JSONSerialization.jsonObject(with: jsonData) as? [String: Any] else {
            throw LRScheduleError(key: "type", "missing: the schedule is not a JSON object")
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

/// Typed access to one JSON object, remembering which keys were read.
private struct Reader {
    let object: [String: Any]
    var read: Set<String> = []
    init(_ object: [String: Any]) { self.object = object }

    private mutating func value(_ key: String) throws -> Any {
        read.insert(key)
        guard let v = object[key] else { throw LRScheduleError(key: key, "is missing") }
        return v
    }

    // JSONSerialization gives NSNumber for numbers and booleans alike; booleans are the
    // NSNumber subclass of `true` (or a native Bool when the dictionary was built in Swift).
    private static let boolClass = ObjectIdentifier(type(of: NSNumber(value: true)))
    private static func isBool(_ v: Any) -> Bool {
        type(of: v) == Bool.self || ObjectIdentifier(type(of: v)) == boolClass
    }

    private static func number(_ v: Any) -> Double? {
        guard !isBool(v), let n = v as? NSNumber else { return nil }
        return n.doubleValue
    }

    mutating func string(_ key: String) throws -> String {
        let v = try value(key)
        guard let s = v as? String else { throw LRScheduleError(key: key, "must be a string, got \(v)") }
        return s
    }

    mutating func float(_ key: String) throws -> Float {
        let v = try value(key)
        guard let d = Self.number(v) else { throw LRScheduleError(key: key, "must be a number, got \(v)") }
        return Float(d)
    }

    mutating func float(_ key: String, default d: Float) throws -> Float {
        object[key] == nil ? d : try float(key)
    }

    mutating func int(_ key: String) throws -> Int {
        let v = try value(key)
        guard let d = Self.number(v), d.rounded() == d, abs(d) < 0x1p53 else {
            throw LRScheduleError(key: key, "must be an integer, got \(v)")
        }
        return Int(d)
    }

    mutating func bool(_ key: String, default d: Bool) throws -> Bool {
        guard let v = object[key] else { return d }
        read.insert(key)
        guard Self.isBool(v), let b = v as? Bool else { throw LRScheduleError(key: key, "must be true or false, got \(v)") }
        return b
    }

    mutating func object(_ key: String) throws -> [String: Any] {
        let v = try value(key)
        guard let o = v as? [String: Any] else { throw LRScheduleError(key: key, "must be a JSON object") }
        return o
    }

    func rejectUnread() throws {
        if let extra = object.keys.sorted().first(where: { !read.contains($0) }) {
            throw LRScheduleError(key: extra, "is not a setting of this schedule type (known: \(read.sorted().joined(separator: ", ")))")
        }
    }
}
