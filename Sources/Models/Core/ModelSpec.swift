import Engine
import Foundation
import Settings

/// The validated parameters of one model: every key of its builder, with the user's value or
/// the default; `auto` settings the user left out are absent (`has` is false).
public struct Params: Sendable {
    public let arch: String
    public private(set) var values: [String: ParamValue]

    init(arch: String, values: [String: ParamValue]) {
        self.arch = arch
        self.values = values
    }

    public func has(_ key: String) -> Bool { values[key] != nil }

    public func int(_ key: String) -> Int {
        guard case .int(let v) = values[key] else { preconditionFailure("\(arch): '\(key)' is not a set integer setting") }
        return v
    }
    public func intIfSet(_ key: String) -> Int? { has(key) ? int(key) : nil }
    public func double(_ key: String) -> Double {
        switch values[key] {
        case .double(let v): return v
        case .int(let v): return Double(v)
        default: preconditionFailure("\(arch): '\(key)' is not a set number setting")
        }
    }
    public func float(_ key: String) -> Float { Float(double(key)) }
    public func bool(_ key: String) -> Bool {
        guard case .bool(let v) = values[key] else { preconditionFailure("\(arch): '\(key)' is not a set boolean setting") }
        return v
    }
    public func string(_ key: String) -> String {
        guard case .string(let v) = values[key] else { preconditionFailure("\(arch): '\(key)' is not a set string setting") }
        return v
    }
    public func ints(_ key: String) -> [Int] {
        guard case .ints(let v) = values[key] else { preconditionFailure("\(arch): '\(key)' is not a set list setting") }
        return v
    }
    public func intsIfSet(_ key: String) -> [Int]? { has(key) ? ints(key) : nil }

    /// An error about `key`, for checks that involve several settings or the input.
    public func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(key: key, message, context: "model \(arch)")
    }
}

/// Parses model JSON (`{"arch": "unet", "dims": 2, "filters": 16, ...}`) against the builder's
/// declared parameters: unknown keys, wrong types and bad values are refused naming the key.
public enum ModelSpec {
    public static func parse(_ spec: JSONObject) throws -> (builder: any ModelBuilder.Type, params: Params) {
        var r = ConfigReader(spec, context: "model")
        let arch = try r.string("arch")
        guard let builder = ModelZoo.builder(arch) else {
            throw r.error("arch", "has unknown value '\(arch)' (known: \(ModelZoo.archs.joined(separator: ", ")))")
        }
        r = ConfigReader(spec, context: "model \(arch)")
        _ = try r.string("arch")
        var values: [String: ParamValue] = [:]
        for p in builder.parameters {
            if r.has(p.key) {
                switch p.kind {
                case .int: values[p.key] = .int(try r.int(p.key))
                case .double: values[p.key] = .double(try r.double(p.key))
                case .bool: values[p.key] = .bool(try r.bool(p.key))
                case .ints: values[p.key] = .ints(try r.ints(p.key))
                case .string(let choices):
                    let s = try r.string(p.key)
                    guard choices.isEmpty || choices.contains(s) else {
                        throw r.error(p.key, "has unknown value '\(s)' (expected \(choices.joined(separator: ", ")))")
                    }
                    values[p.key] = .string(s)
                }
            } else {
                switch p.defaultValue {
                case .required: throw r.error(p.key, "is missing (\(p.help))")
                case .value(let v): values[p.key] = v
                case .auto: break
                }
            }
        }
        try r.rejectUnknown(known: ["arch"] + builder.parameters.map(\.key))
        let params = Params(arch: arch, values: values)
        try builder.validate(params)
        return (builder, params)
    }

    /// A spec held as JSONSerialization output, or built in Swift (`["arch": "unet", "filters": 16]`).
    public static func parse(_ json: [String: Any]) throws -> (builder: any ModelBuilder.Type, params: Params) {
        guard let spec = JSONValue(foundation: json)?.object else {
            throw ConfigError(key: "(spec)", "holds a value that is not JSON: \(json)", context: "model")
        }
        return try parse(spec)
    }

    public static func parse(data: Data, source: String) throws -> (builder: any ModelBuilder.Type, params: Params) {
        let value: JSONValue
        do { value = try JSONValue.parse(data) } catch {
            throw ConfigError(key: "(file)", "\(source) is not valid JSON: \(error)", context: "model")
        }
        guard let spec = value.object else {
            throw ConfigError(key: "(file)", "\(source) must hold one JSON object", context: "model")
        }
        return try parse(spec)
    }
}
