import Engine
import Foundation

/// `JSONReader` for the run config: errors carry the JSON path of the key (`data.shards[1].path`)
/// and the config file, and optional keys have typed defaults.
public struct ConfigReader {
    public var r: JSONReader
    /// JSON path of this object ("" for the root).
    public let path: String
    public let file: String

    public init(_ object: [String: Any], path: String, file: String) {
        r = JSONReader(object, context: file)
        self.path = path
        self.file = file
    }

    public func key(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }
    public func error(_ k: String, _ message: String) -> ConfigError { ConfigError(key: key(k), message, context: file) }
    public func has(_ k: String) -> Bool { r.has(k) }

    /// Runs `body`, re-labelling a `ConfigError` from `JSONReader` with this object's path.
    private func relabel<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ConfigError {
            throw ConfigError(key: e.key.hasPrefix(path) && !path.isEmpty ? e.key : key(e.key), e.message, context: file)
        }
    }

    public mutating func string(_ k: String) throws -> String { var rr = r; defer { r = rr }; return try relabel { try rr.string(k) } }
    public mutating func int(_ k: String) throws -> Int { var rr = r; defer { r = rr }; return try relabel { try rr.int(k) } }
    public mutating func double(_ k: String) throws -> Double { var rr = r; defer { r = rr }; return try relabel { try rr.double(k) } }
    public mutating func bool(_ k: String) throws -> Bool { var rr = r; defer { r = rr }; return try relabel { try rr.bool(k) } }
    public mutating func object(_ k: String) throws -> [String: Any] { var rr = r; defer { r = rr }; return try relabel { try rr.object(k) } }

    public mutating func string(_ k: String, default d: String) throws -> String { has(k) ? try string(k) : mark(k, d) }
    public mutating func int(_ k: String, default d: Int) throws -> Int { has(k) ? try int(k) : mark(k, d) }
    public mutating func double(_ k: String, default d: Double) throws -> Double { has(k) ? try double(k) : mark(k, d) }
    public mutating func bool(_ k: String, default d: Bool) throws -> Bool { has(k) ? try bool(k) : mark(k, d) }

    /// An optional key that is absent (or null) still counts as known.
    private mutating func mark<T>(_ k: String, _ d: T) -> T { _ = try? r.string(k); return d }

    public mutating func choice<T: RawRepresentable>(_ k: String, default d: T) throws -> T where T.RawValue == String {
        guard has(k) else { return mark(k, d) }
        let s = try string(k)
        guard let v = T(rawValue: s) else { throw error(k, "has unknown value '\(s)'") }
        return v
    }

    /// A list value (any element type) or nil when absent.
    public mutating func array(_ k: String) throws -> [Any]? {
        guard has(k) else { return mark(k, nil) }
        guard let a = r.object[k] as? [Any] else { _ = try? r.string(k); throw error(k, "must be a list") }
        _ = try? r.string(k)
        return a
    }

    /// A nested object, or nil when absent.
    public mutating func optionalObject(_ k: String) throws -> [String: Any]? { has(k) ? try object(k) : mark(k, nil) }

    public mutating func positive(_ k: String, default d: Int? = nil) throws -> Int {
        let v = d == nil ? try int(k) : try int(k, default: d!)
        guard v >= 1 else { throw error(k, "must be at least 1, got \(v)") }
        return v
    }

    public func rejectUnknown() throws {
        do { try r.rejectUnread() } catch let e as ConfigError { throw ConfigError(key: key(e.key), e.message, context: file) }
    }
}
