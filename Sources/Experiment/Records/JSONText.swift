import Foundation
import Settings

/// JSON text for the report files, written by hand rather than by JSONSerialization because
/// the files need what it does not give: object keys in sorted order (so two runs' lines
/// diff cleanly), Float and Double as their shortest round-trip decimal (Float 0.1 is "0.1",
/// not "0.10000000149011612"), and NaN / ±infinity, which JSON lacks, as the strings
/// "nan", "inf", "-inf" instead of an error.
public enum JSONText {
    /// Appends the JSON text of `value` to `out`. Accepts String, Bool, any integer, Float,
    /// Double, arrays, [String: Any] dictionaries, nil / NSNull (null) and NSNumber (as
    /// JSONSerialization returns); anything else throws, naming its key path and type.
    public static func append(_ value: Any, to out: inout String, at path: String = "") throws {
        // NSNumber first, by its dynamic type: a parsed 1 would otherwise cast to Bool.
        if type(of: value) is NSNumber.Type, let n = value as? NSNumber {
            appendNumber(n, to: &out)
            return
        }
        switch value {
        case let s as String: appendString(s, to: &out)
        case let b as Bool: out += b ? "true" : "false"
        case let f as Float: appendReal(f.isFinite ? nil : f.description, f.description, to: &out)
        case let d as Double: appendReal(d.isFinite ? nil : d.description, d.description, to: &out)
        case let i as any BinaryInteger: out += "\(i)"
        case let d as [String: Any]:
            out += "{"
            for (k, key) in d.keys.sorted().enumerated() {
                if k > 0 { out += "," }
                appendString(key, to: &out)
                out += ":"
                try append(d[key]!, to: &out, at: path + "." + key)
            }
            out += "}"
        case let a as [Any]:
            out += "["
            for (k, element) in a.enumerated() {
                if k > 0 { out += "," }
                try append(element, to: &out, at: path + "[\(k)]")
            }
            out += "]"
        case is NSNull: out += "null"
        default:
            // A nil Optional boxed in Any (a non-nil one casts through the cases above).
            if Mirror(reflecting: value).displayStyle == .optional {
                out += "null"
                return
            }
            throw JSONTextError(path: path.isEmpty ? "(top level)" : String(path.dropFirst()),
                                type: String(describing: type(of: value)))
        }
    }

    public static func encode(_ value: Any) throws -> String {
        var out = ""
        try append(value, to: &out)
        return out
    }

    /// Finite reals print as Swift's shortest round-trip description ("0.1", "1e-07",
    /// "3.0"), all valid JSON numbers; non-finite ones as the strings "nan", "inf", "-inf".
    private static func appendReal(_ special: String?, _ text: String, to out: inout String) {
        if let special { appendString(special, to: &out) } else { out += text }
    }

    private static func appendNumber(_ n: NSNumber, to out: inout String) {
        switch String(cString: n.objCType) {
        case "c", "B": out += n.boolValue ? "true" : "false"   // JSON true/false parse as char numbers
        case "f": let f = n.floatValue; appendReal(f.isFinite ? nil : f.description, f.description, to: &out)
        case "d": let d = n.doubleValue; appendReal(d.isFinite ? nil : d.description, d.description, to: &out)
        case "Q": out += "\(n.uint64Value)"
        default: out += "\(n.int64Value)"
        }
    }

    public static func appendString(_ s: String, to out: inout String) { JSONValue.quote(s, into: &out) }
}

/// A value JSONText cannot write: its key path in the object and its type.
public struct JSONTextError: Error, CustomStringConvertible {
    public let path: String
    public let type: String
    public var description: String { "value at \(path) has type \(type), which has no JSON form" }
}
