import Engine
import Foundation
import Settings

/// A model spec parsed and validated once (`{"arch": "unet", "dims": 2, "filters": 16, ...}`
/// against the builder's declared parameters: unknown keys, wrong types and bad values are
/// refused naming the key), then passed on: its builder, its typed parameters, and the JSON it
/// came from (written back as given into checkpoints and weights files).
public struct ModelSpec: @unchecked Sendable {
    public let builder: any ModelBuilder.Type
    public let params: Params
    public let json: JSONObject

    public var arch: String { builder.arch }

    /// Builds the model for `batch` samples of `input` (per sample, C×…; the builder's default
    /// when nil). Errors name the JSON key or the layer at fault.
    public func build(batch: Int = 1, input: [Int]? = nil) throws -> Model {
        try ModelZoo.build(builder, params, batch: batch, input: input)
    }

    public init(_ spec: JSONObject) throws {
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
        (self.builder, self.params, json) = (builder, params, spec)
    }

    /// A spec held as JSONSerialization output, or built in Swift (`["arch": "unet", "filters": 16]`).
    public init(_ json: [String: Any]) throws {
        guard let spec = JSONValue(foundation: json)?.object else {
            throw ConfigError(key: "(spec)", "holds a value that is not JSON: \(json)", context: "model")
        }
        try self.init(spec)
    }

    public init(data: Data, source: String) throws {
        let value: JSONValue
        do { value = try JSONValue.parse(data) } catch {
            throw ConfigError(key: "(file)", "\(source) is not valid JSON: \(error)", context: "model")
        }
        guard let spec = value.object else {
            throw ConfigError(key: "(file)", "\(source) must hold one JSON object", context: "model")
        }
        try self.init(spec)
    }
}
