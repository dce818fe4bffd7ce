import Foundation

/// Bridges to and from JSONSerialization-style values ([String: Any], [Any], NSNumber, String,
/// NSNull), for callers that still hold those, one at a time.
extension JSONValue {
    /// The value of a JSONSerialization-style tree, or of one built in Swift (Int, Double, Bool,
    /// arrays, [String: Any]). Dictionary keys come sorted (a dictionary has no order). Nil for
    /// anything else (a Date, a custom type).
    public init?(foundation v: Any) {
        switch v {
        case is NSNull: self = .null
        // Before NSNumber: a native Bool casts to one, and NSNumber(1) casts to Bool.
        case let b as Bool where type(of: v) == Bool.self: self = .bool(b)
        case let n as NSNumber where Self.isFoundationBool(n): self = .bool(n.boolValue)
        case let n as NSNumber: self = .number(Self.number(n))
        case let s as String: self = .string(s)
        case let a as [Any]:
            var out: [JSONValue] = []
            for e in a {
                guard let j = JSONValue(foundation: e) else { return nil }
                out.append(j)
            }
            self = .array(out)
        case let o as [String: Any]:
            var out = JSONObject()
            for k in o.keys.sorted() {
                guard let j = JSONValue(foundation: o[k]!) else { return nil }
                out[k] = j
            }
            self = .object(out)
        default: return nil
        }
    }

    /// The JSONSerialization-style tree: [String: Any], [Any], String, NSNull, NSNumber for numbers
    /// (of an Int, a UInt64 or a Double, as JSONSerialization makes them; a native Int would not
    /// cast to Double on Linux) and Bool for booleans (NSDictionary.isEqual on Linux finds two of
    /// JSONSerialization's boolean NSNumbers unequal, but one equal to a Bool).
    public var foundation: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .number(let n):
            if n.isIntegerLiteral, let i = Int(n.text) { return NSNumber(value: i) }
            if n.isIntegerLiteral, let u = UInt64(n.text) { return NSNumber(value: u) }
            return NSNumber(value: n.double ?? .nan)
        case .string(let s): return s
        case .array(let a): return a.map(\.foundation)
        case .object(let o): return o.foundation
        }
    }

    // JSONSerialization's booleans are the NSNumber subclass of `true`.
    private static let boolClass = ObjectIdentifier(type(of: NSNumber(value: true)))
    private static func isFoundationBool(_ n: NSNumber) -> Bool { ObjectIdentifier(type(of: n)) == boolClass }

    private static func number(_ n: NSNumber) -> JSONNumber {
        switch UInt8(bitPattern: n.objCType.pointee) {
        case UInt8(ascii: "f"): return JSONNumber(n.floatValue)
        case UInt8(ascii: "d"): return JSONNumber(n.doubleValue)
        case UInt8(ascii: "Q"), UInt8(ascii: "L"): return JSONNumber(n.uint64Value)
        default: return JSONNumber(n.int64Value)
        }
    }
}

extension JSONObject {
    /// The JSONSerialization-style dictionary (see `JSONValue.foundation`).
    public var foundation: [String: Any] {
        var out: [String: Any] = [:]
        for (k, v) in self { out[k] = v.foundation }
        return out
    }
}

extension JSONValue {
    /// One JSON object's text as a JSONSerialization-style dictionary, with every number read
    /// exactly (JSONSerialization on Linux mis-rounds some 17-digit doubles); nil when the text
    /// is not one JSON object.
    public static func foundationObject(_ data: Data) -> [String: Any]? { (try? parse(data))?.object?.foundation }
}
