/// Typed access to one object of a settings document (run config, model spec, schedule): every
/// setting is read once, through a getter that checks its type, into a typed value. The reader
/// remembers which keys were read so that unknown keys — usually typos — are refused instead of
/// silently ignored, and every error names the key by its JSON path (`data.shards[1].path`) and
/// the document (`context`: the config file, "model unet").
public struct ConfigReader {
    public let object: JSONObject
    /// The JSON path of this object ("" for the document's root).
    public let path: String
    /// What is being read: the config file, "model unet", "learning-rate schedule".
    public let context: String
    public private(set) var read: Set<String> = []

    public init(_ object: JSONObject, path: String = "", context: String) {
        self.object = object
        self.path = path
        self.context = context
    }

    /// The JSON path of this object's key `k`.
    public func key(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }
    public func error(_ k: String, _ message: String) -> ConfigError { ConfigError(key: key(k), message, context: context) }
    /// Present and not null.
    public func has(_ k: String) -> Bool { object[k].map { !$0.isNull } ?? false }
    /// The raw value, without reading it (a null is a value here).
    public subscript(k: String) -> JSONValue? { object[k] }

    // MARK: Required settings

    public mutating func string(_ k: String) throws -> String { try get(k, "must be a string") { $0.string } }
    public mutating func double(_ k: String) throws -> Double { try get(k, "must be a number") { $0.double } }
    /// Rounded once from the number's text.
    public mutating func float(_ k: String) throws -> Float { try get(k, "must be a number") { $0.float } }
    /// An exact integer (see `JSONNumber.int64`).
    public mutating func int(_ k: String) throws -> Int { try get(k, "must be an integer") { $0.int } }
    public mutating func bool(_ k: String) throws -> Bool { try get(k, "must be true or false") { $0.bool } }

    public mutating func ints(_ k: String) throws -> [Int] {
        try get(k, "must be a list of integers") { v in
            guard let a = v.array else { return nil }
            let out = a.compactMap(\.int)
            return out.count == a.count ? out : nil
        }
    }

    /// A setting of at least 1 (a count, a size).
    public mutating func positive(_ k: String, default d: Int? = nil) throws -> Int {
        let v = try d.map { try int(k, default: $0) } ?? int(k)
        guard v >= 1 else { throw error(k, "must be at least 1, got \(v)") }
        return v
    }

    /// A nested object, read by a reader whose path is this key's.
    public mutating func object(_ k: String) throws -> ConfigReader {
        let v = try value(k)
        guard let o = v.object else { throw error(k, "must be a JSON object") }
        return ConfigReader(o, path: key(k), context: context)
    }

    // MARK: Optional settings: absent or null gives the default, and the key still counts as known

    public mutating func string(_ k: String, default d: String) throws -> String { has(k) ? try string(k) : mark(k, d) }
    public mutating func int(_ k: String, default d: Int) throws -> Int { has(k) ? try int(k) : mark(k, d) }
    public mutating func double(_ k: String, default d: Double) throws -> Double { has(k) ? try double(k) : mark(k, d) }
    public mutating func float(_ k: String, default d: Float) throws -> Float { has(k) ? try float(k) : mark(k, d) }
    public mutating func bool(_ k: String, default d: Bool) throws -> Bool { has(k) ? try bool(k) : mark(k, d) }

    /// One of a String-valued enum's raw values.
    public mutating func choice<T: RawRepresentable>(_ k: String, default d: T) throws -> T where T.RawValue == String {
        guard has(k) else { return mark(k, d) }
        let s = try string(k)
        guard let v = T(rawValue: s) else { throw error(k, "has unknown value '\(s)'") }
        return v
    }

    /// A nested object, or nil when absent.
    public mutating func optionalObject(_ k: String) throws -> ConfigReader? { has(k) ? try object(k) : mark(k, nil) }

    /// A nested object that may be left out: absent, it reads as an empty one (every setting
    /// its default).
    public mutating func section(_ k: String) throws -> ConfigReader {
        try optionalObject(k) ?? ConfigReader([:], path: key(k), context: context)
    }

    /// A list's elements (of any type) with their paths (`key[i]`), or nil when absent.
    public mutating func array(_ k: String) throws -> [ConfigItem]? {
        guard has(k) else { return mark(k, nil) }
        guard let a = try value(k).array else { throw error(k, "must be a list") }
        return a.enumerated().map { ConfigItem(value: $1, path: "\(key(k))[\($0)]", context: context) }
    }

    // MARK: Unknown keys

    /// Throws for the first key (alphabetically) that was never read, listing `known` (default:
    /// the keys read).
    public func rejectUnknown(known: [String]? = nil) throws {
        if let extra = object.keys.sorted().first(where: { !read.contains($0) }) {
            let names = (known ?? read.sorted()).joined(separator: ", ")
            throw error(extra, "is not a known setting (known: \(names))")
        }
    }

    // MARK: Reading

    private mutating func value(_ k: String) throws -> JSONValue {
        read.insert(k)
        guard let v = object[k], !v.isNull else { throw error(k, "is missing") }
        return v
    }

    private mutating func get<T>(_ k: String, _ expected: String, _ convert: (JSONValue) -> T?) throws -> T {
        let v = try value(k)
        guard let t = convert(v) else { throw error(k, "\(expected), got \(v.shown)") }
        return t
    }

    private mutating func mark<T>(_ k: String, _ d: T) -> T {
        read.insert(k)
        return d
    }
}

/// One value of a settings document with its JSON path: an element of a list (`data.shards[1]`).
public struct ConfigItem {
    public let value: JSONValue
    public let path: String
    public let context: String

    public func error(_ message: String) -> ConfigError { ConfigError(key: path, message, context: context) }

    /// A reader of this value, which must be an object (else `message`).
    public func reader(orError message: String = "must be a JSON object") throws -> ConfigReader {
        guard let o = value.object else { throw error(message) }
        return ConfigReader(o, path: path, context: context)
    }
}

extension JSONValue {
    /// A value in a message: a string bare (as the user typed it), anything else as JSON.
    var shown: String { string ?? description }
}
