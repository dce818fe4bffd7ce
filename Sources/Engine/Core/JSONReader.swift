import Foundation

/// A bad setting in a JSON document (model, schedule, run config). `key` is the path of the
/// key at fault ("model.levels", "schedule.min_lr"), so the user knows exactly what to fix.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let key: String
    public let message: String
    /// What was being read ("model unet", "learning-rate schedule").
    public let context: String
    public init(key: String, _ message: String, context: String = "config") {
        self.key = key
        self.message = message
        self.context = context
    }
    public var description: String { "\(context): key '\(key)' \(message)" }
    /// The same error seen from the enclosing object's key `parent`.
    public func nested(in parent: String) -> ConfigError { ConfigError(key: "\(parent).\(key)", message, context: context) }
}

/// Typed access to one JSON object (JSONSerialization output), remembering which keys were
/// read so that unknown keys — usually typos — are refused instead of silently ignored.
public struct JSONReader {
    public let object: [String: Any]
    public let context: String
    public private(set) var read: Set<String> = []

    public init(_ object: [String: Any], context: String) {
        self.object = object
        self.context = context
    }

    public func error(_ key: String, _ message: String) -> ConfigError { ConfigError(key: key, message, context: context) }
    public func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    private mutating func value(_ key: String) throws -> Any {
        read.insert(key)
        guard let v = object[key], !(v is NSNull) else { throw error(key, "is missing") }
        return v
    }

    // JSONSerialization gives NSNumber for numbers and booleans alike; booleans are the
    // NSNumber subclass of `true` (or a native Bool when the dictionary was built in Swift).
    private static let boolClass = ObjectIdentifier(type(of: NSNumber(value: true)))
    static func isBool(_ v: Any) -> Bool {
        type(of: v) == Bool.self || ObjectIdentifier(type(of: v)) == boolClass
    }
    static func number(_ v: Any) -> Double? {
        guard !isBool(v), let n = v as? NSNumber else { return nil }
        return n.doubleValue
    }
    static func integer(_ v: Any) -> Int? {
        guard let d = number(v), d.rounded() == d, abs(d) < 0x1p53 else { return nil }
        return Int(d)
    }

    public mutating func string(_ key: String) throws -> String {
        let v = try value(key)
        guard let s = v as? String else { throw error(key, "must be a string, got \(v)") }
        return s
    }

    public mutating func double(_ key: String) throws -> Double {
        let v = try value(key)
        guard let d = Self.number(v) else { throw error(key, "must be a number, got \(v)") }
        return d
    }

    public mutating func float(_ key: String) throws -> Float { Float(try double(key)) }

    public mutating func float(_ key: String, default d: Float) throws -> Float {
        has(key) ? try float(key) : d
    }

    public mutating func int(_ key: String) throws -> Int {
        let v = try value(key)
        guard let i = Self.integer(v) else { throw error(key, "must be an integer, got \(v)") }
        return i
    }

    public mutating func ints(_ key: String) throws -> [Int] {
        let v = try value(key)
        guard let a = v as? [Any], let out = Optional(a.compactMap(Self.integer)), out.count == a.count else {
            throw error(key, "must be a list of integers, got \(v)")
        }
        return out
    }

    public mutating func bool(_ key: String) throws -> Bool {
        let v = try value(key)
        guard Self.isBool(v), let b = v as? Bool else { throw error(key, "must be true or false, got \(v)") }
        return b
    }

    public mutating func bool(_ key: String, default d: Bool) throws -> Bool {
        has(key) ? try bool(key) : d
    }

    public mutating func object(_ key: String) throws -> [String: Any] {
        let v = try value(key)
        guard let o = v as? [String: Any] else { throw error(key, "must be a JSON object") }
        return o
    }

    /// Throws for the first key (alphabetically) that was never read.
    public func rejectUnread(known: [String]? = nil) throws {
        if let extra = object.keys.sorted().first(where: { !read.contains($0) }) {
            let names = (known ?? read.sorted()).joined(separator: ", ")
            throw error(extra, "is not a known setting (known: \(names))")
        }
    }
}
