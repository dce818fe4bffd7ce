import Foundation

/// A value the writer cannot put in JSON: a non-finite number, at its JSON path.
public struct JSONWriteError: Error, LocalizedError, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
    public var errorDescription: String? { description }
}

extension JSONValue {
    /// The JSON text: compact (`{"a":1,"b":[true,null]}`), or `pretty` (two-space indent, one
    /// member or element per line). Object keys come in the object's order (the document's or
    /// insertion order; see `JSONObject`); numbers as their literal (doubles made from Swift
    /// values as the shortest text that reads back to the same bits, integers without ".0").
    /// Throws `JSONWriteError` for NaN or an infinity, which JSON cannot hold.
    public func text(pretty: Bool = false) throws -> String {
        var out = ""
        try write(to: &out, indent: pretty ? "" : nil, path: "", strict: true)
        return out
    }

    /// `text(pretty:)` as UTF-8.
    public func data(pretty: Bool = false) throws -> Data { Data(try text(pretty: pretty).utf8) }

    /// `indent` nil: compact; else the current line's indent. Not `strict`: non-finite numbers as
    /// their text (never throws).
    private func write(to out: inout String, indent: String?, path: String, strict: Bool) throws {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n):
            guard n.isFinite || !strict else { throw JSONWriteError(path: path, message: "\(n.text) is not a finite number: JSON cannot hold it") }
            out += n.text
        case .string(let s): Self.quote(s, into: &out)
        case .array(let a):
            try Self.container(a.enumerated(), open: "[", close: "]", into: &out, indent: indent) { e, out, inner in
                try e.element.write(to: &out, indent: inner, path: "\(path)[\(e.offset)]", strict: strict)
            }
        case .object(let o):
            try Self.container(o, open: "{", close: "}", into: &out, indent: indent) { m, out, inner in
                Self.quote(m.key, into: &out)
                out += inner == nil ? ":" : ": "
                try m.value.write(to: &out, indent: inner, path: path.isEmpty ? m.key : "\(path).\(m.key)", strict: strict)
            }
        }
    }

    private static func container<S: Sequence>(_ items: S, open: String, close: String, into out: inout String, indent: String?,
                                               _ item: (S.Element, inout String, String?) throws -> Void) rethrows {
        out += open
        let inner = indent.map { $0 + "  " }
        var first = true
        for e in items {
            if !first { out += "," }
            if let inner { out += "\n" + inner }
            try item(e, &out, inner)
            first = false
        }
        if !first, let indent { out += "\n" + indent }
        out += close
    }

    /// Appends `s` as a JSON string literal: `"` and `\` escaped, control characters as \n, \r,
    /// \t or \u00XX, the rest (non-ASCII included) as is. Also the report writer's (JSONText).
    public static func quote(_ s: String, into out: inout String) {
        out += "\""
        // Most strings (names, keys) need no escape: copy them whole.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += s
            out += "\""
            return
        }
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact text; a non-finite number shows as its text ("nan"), for messages.
    public var description: String {
        var out = ""
        try? write(to: &out, indent: nil, path: "", strict: false)
        return out
    }
}
