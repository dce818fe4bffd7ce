/// A JSON document's value: the one way rstrain reads and writes JSON (configs, model specs, run
/// records). `JSONValue.parse` reads a text (RFC 8259, errors with line and column), `text()`
/// writes one; numbers keep their literal (`JSONNumber`), objects their key order (`JSONObject`).
/// `ConfigReader` reads settings out of it with errors that name the key's JSON path.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public init<I: BinaryInteger>(_ value: I) { self = .number(JSONNumber(value)) }
    public init(_ value: Double) { self = .number(JSONNumber(value)) }
    public init(_ value: Float) { self = .number(JSONNumber(value)) }

    public var isNull: Bool { self == .null }

    public var bool: Bool? {
        guard case .bool(let b) = self else { return nil }
        return b
    }

    public var number: JSONNumber? {
        guard case .number(let n) = self else { return nil }
        return n
    }

    public var string: String? {
        guard case .string(let s) = self else { return nil }
        return s
    }

    public var array: [JSONValue]? {
        guard case .array(let a) = self else { return nil }
        return a
    }

    public var object: JSONObject? {
        guard case .object(let o) = self else { return nil }
        return o
    }

    /// A number as a double (correctly rounded from its text).
    public var double: Double? { number?.double }
    /// A number as a float (rounded once, from its text).
    public var float: Float? { number?.float }
    /// A number that is exactly an integer (see `JSONNumber.int64`).
    public var int: Int? { number?.int }
    public var int64: Int64? { number?.int64 }
    public var uint64: UInt64? { number?.uint64 }

    /// The value at `key` of an object (nil for a missing key or a non-object).
    public subscript(key: String) -> JSONValue? { object?[key] }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
                     ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
                     ExpressibleByDictionaryLiteral {
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self.init(value) }
    public init(floatLiteral value: Double) { self.init(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}
