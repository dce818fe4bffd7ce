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
