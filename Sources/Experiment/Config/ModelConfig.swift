import Engine
import Foundation
import Models
import Settings

/// One entry of `models`: a named model spec with its optimizer and schedule.
public struct ModelConfig: @unchecked Sendable {
    public enum OptimizerKind: String, Sendable { case sgd, adam, adamw }
    /// The training loss (`"loss"`): softmax cross-entropy or per-class sigmoid binary
    /// cross-entropy for classifiers, mean squared or absolute error for regression.
    public enum Loss: String, Sendable {
        case crossEntropy = "cross_entropy", binaryCrossEntropy = "binary_cross_entropy", mse, l1

        public var isRegression: Bool { self == .mse || self == .l1 }
    }

    public var name: String
    /// The builder's JSON (inline, or read from the file `model` names).
    public var spec: [String: Any]
    /// The neural model's spec, parsed and validated once (nil for a random forest).
    public var model: ModelSpec?
    /// The loss (default: cross_entropy for classifiers, mse for regression models).
    public var loss: Loss = .crossEntropy
    public var optimizer: OptimizerKind
    public var momentum: Float
    public var weightDecay: Float
    public var schedule: LRSchedule
    /// Per-class loss weights (classification), nil: all 1.
    public var classWeights: [Float]?
    /// A `"random_forest"` entry: grown at the start of the run, outside the neural schedule
    /// (its optimizer fields keep their defaults and are unused).
    public var forest: ForestSpec?

    /// Reads one entry of `models`; `defaults` is the run's `optimizer` section.
    public init(_ entry: ConfigReader, defaults: ConfigReader) throws {
        var r = entry
        name = try r.string("name")
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw r.error("name", "must be letters, digits, '-', '_' or '.', got '\(name)'")
        }
        let spec: JSONObject
        if let path = r["model"]?.string {
            _ = try r.string("model")
            guard let data = FileManager.default.contents(atPath: path) else {
                throw r.error("model", "names the file '\(path)', which cannot be read")
            }
            guard let obj = (try? JSONValue.parse(data))?.object else {
                throw r.error("model", "names '\(path)', which is not a JSON object")
            }
            spec = obj
        } else {
            spec = try r.object("model").object
        }
        self.spec = spec.foundation
        if spec["arch"]?.string == "random_forest" {
            forest = try ForestSpec(ConfigReader(spec, path: r.key("model"), context: r.context))
            // A forest has no optimizer: giving it one is a mistake worth naming.
            for k in ["optimizer", "class_weights", "loss"] where r[k] != nil {
                throw r.error(k, "does not apply to a random_forest model")
            }
            (optimizer, momentum, weightDecay, schedule) = (.adam, 0, 0, .constant(lr: 1e-3))
            try r.rejectUnknown()
            return
        }
        let model: ModelSpec
        do { model = try ModelSpec(spec) } catch let e as ConfigError {
            throw ConfigError(key: "\(r.key("model")).\(e.key)", "\(e.message) (\(e.context))", context: r.context)
        }
        self.model = model
        let regression = model.builder.task(model.params) == .regression
        loss = try r.choice("loss", default: regression ? .mse : .crossEntropy)
        guard loss.isRegression == regression else {
            throw r.error("loss", "'\(loss.rawValue)' does not apply to a \(regression ? "regression" : "classification") model (\(regression ? "mse or l1" : "cross_entropy or binary_cross_entropy"))")
        }
        // Optimizer: the model's own, else the run's default section, else Adam at 1e-3.
        var o = try r.optionalObject("optimizer") ?? defaults
        optimizer = try o.choice("type", default: .adam)
        momentum = Float(try o.double("momentum", default: optimizer == .sgd ? 0.9 : 0))
        weightDecay = Float(try o.double("weight_decay", default: 0))
        guard momentum >= 0, momentum < 1 else { throw o.error("momentum", "must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0 else { throw o.error("weight_decay", "must be ≥ 0, got \(weightDecay)") }
        if optimizer == .adam, momentum != 0 { throw o.error("momentum", "applies to sgd only") }
        let lr = try o.double("lr", default: 1e-3)
        guard lr > 0, lr.isFinite else { throw o.error("lr", "must be > 0, got \(lr)") }
        if let s = try o.optionalObject("schedule") {
            schedule = try LRSchedule(s)
            if o.has("lr") { throw o.error("lr", "cannot be given with 'schedule' (the schedule sets the rate)") }
        } else {
            schedule = .constant(lr: Float(lr))
        }
        try o.rejectUnknown()
        if let w = try r.array("class_weights") {
            let v = w.compactMap(\.value.float)
            guard v.count == w.count, v.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
                throw r.error("class_weights", "must be a list of numbers ≥ 0")
            }
            classWeights = v
            if loss != .crossEntropy { throw r.error("class_weights", "applies to the cross_entropy loss only") }
        }
        try r.rejectUnknown()
    }

    /// A fresh optimizer for a store of `count` parameters.
    public func makeOptimizer(count: Int) throws -> any Optimizer {
        switch optimizer {
        case .sgd: return try SGD(parameterCount: count, momentum: momentum, weightDecay: weightDecay)
        case .adam: return try Adam(parameterCount: count, weightDecay: weightDecay)
        case .adamw: return try AdamW(parameterCount: count, weightDecay: weightDecay)
        }
    }
}
