import Engine
import Settings

/// One setting a model builder accepts: its JSON key, type, default and meaning. Builders
/// declare these; `rstrain models` prints them and `ModelSpec` validates JSON against them.
public struct Parameter: Sendable {
    public enum Kind: Sendable, Equatable {
        case int, double, bool, ints
        case string(choices: [String])

        public var name: String {
            switch self {
            case .int: return "integer"
            case .double: return "number"
            case .bool: return "boolean"
            case .ints: return "list of integers"
            case .string(let c): return c.isEmpty ? "string" : c.joined(separator: " | ")
            }
        }
    }

    public enum Default: Sendable {
        /// The user must give it.
        case required
        case value(ParamValue)
        /// Derived from other settings or the input when absent; the text says how.
        case auto(String)
    }

    public let key: String
    public let kind: Kind
    public let defaultValue: Default
    public let help: String

    public init(_ key: String, _ kind: Kind, _ defaultValue: Default, _ help: String) {
        self.key = key
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
    }

    public var defaultText: String {
        switch defaultValue {
        case .required: return "required"
        case .value(let v): return v.description
        case .auto(let how): return "auto (\(how))"
        }
    }
}

/// A typed parameter value.
public enum ParamValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int), double(Double), bool(Bool), string(String), ints([Int])

    public var description: String {
        switch self {
        case .int(let v): return "\(v)"
        case .double(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        case .string(let v): return "\"\(v)\""
        case .ints(let v): return "[" + v.map(String.init).joined(separator: ", ") + "]"
        }
    }

    /// The JSON value (for writing specs back out).
    public var json: JSONValue {
        switch self {
        case .int(let v): return JSONValue(v)
        case .double(let v): return JSONValue(v)
        case .bool(let v): return .bool(v)
        case .string(let v): return .string(v)
        case .ints(let v): return .array(v.map(JSONValue.init))
        }
    }
}

// Settings most builders share.
extension Parameter {
    public static let bands = Parameter("bands", .int, .value(.int(10)), "input channels (spectral bands, or bands × polarisations)")
    public static let classes = Parameter("classes", .int, .value(.int(10)), "output classes (or regression targets)")
    public static func task(_ defaultTask: String) -> Parameter {
        Parameter("task", .string(choices: ["classification", "regression"]), .value(.string(defaultTask)),
                  "classification: class scores (softmax cross-entropy); regression: linear outputs (MSE)")
    }
    public static let dropout = Parameter("dropout", .double, .value(.double(0)), "dropout rate (0 = none)")
    public static let batchNorm = Parameter("batch_norm", .bool, .value(.bool(true)), "batch normalisation after each convolution")
}
