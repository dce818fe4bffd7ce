import Foundation

/// A text that is not JSON, with where: line and column (1-based; the column counts characters).
public struct JSONSyntaxError: Error, LocalizedError, CustomStringConvertible, Equatable {
    public let line: Int
    public let column: Int
    public let message: String

    public var description: String { "line \(line), column \(column): \(message)" }
    public var errorDescription: String? { description }
}

extension JSONValue {
    /// Parses one JSON text (RFC 8259: any value at the top, whitespace around it, a UTF-8 byte
    /// order mark skipped). Duplicate keys in an object are refused: in a config one of the two
    /// would silently win.
    public static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes {
            var parser = JSONParser(bytes: $0.bindMemory(to: UInt8.self))
            return try parser.document()
        }
    }

    public static func parse(_ text: String) throws -> JSONValue { try parse(Data(text.utf8)) }
}

/// A recursive-descent parser over UTF-8 bytes.
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0
    var depth = 0
    static let maxDepth = 512

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
    }

    mutating func document() throws -> JSONValue {
        let v = try value()
        skipSpace()
        guard i == bytes.count else { throw error("unexpected \(found) after the JSON value") }
        return v
    }

    // MARK: Values

    mutating func value() throws -> JSONValue {
        skipSpace()
        guard i < bytes.count else { throw error("unexpected end of input: expected a value") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try nested { try $0.object() }
        case UInt8(ascii: "["): return try nested { try $0.array() }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        case UInt8(ascii: "t"): try word("true"); return .bool(true)
        case UInt8(ascii: "f"): try word("false"); return .bool(false)
        case UInt8(ascii: "n"): try word("null"); return .null
        default: throw error("expected a value, found \(found)")
        }
    }

    mutating func nested(_ body: (inout JSONParser) throws -> JSONValue) throws -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
        return try body(&self)
    }

    mutating func object() throws -> JSONValue {
        i += 1 // {
        var o = JSONObject()
        skipSpace()
        if take(UInt8(ascii: "}")) { return .object(o) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                throw error(peek(UInt8(ascii: "}")) && !o.isEmpty ? "trailing comma before '}'" : "expected a key (a string), found \(found)")
            }
            let at = i
            let key = try string()
            guard o[key] == nil else { throw error("duplicate key '\(key)'", at: at) }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { throw error("expected ':' after the key '\(key)', found \(found)") }
            o[key] = try value()
            skipSpace()
            if take(UInt8(ascii: "}")) { return .object(o) }
            guard take(UInt8(ascii: ",")) else { throw error("expected ',' or '}' in an object, found \(found)") }
        }
    }

    mutating func array() throws -> JSONValue {
        i += 1 // [
        var a: [JSONValue] = []
        skipSpace()
        if take(UInt8(ascii: "]")) { return .array(a) }
        while true {
            skipSpace()
            if peek(UInt8(ascii: "]")) { throw error("trailing comma before ']'") }
            a.append(try value())
            skipSpace()
            if take(UInt8(ascii: "]")) { return .array(a) }
            guard take(UInt8(ascii: ",")) else { throw error("expected ',' or ']' in an array, found \(found)") }
        }
    }

    mutating func number() throws -> JSONNumber {
        let start = i
        while i < bytes.count, Self.numberBytes.contains(bytes[i]) { i += 1 }
        let literal = bytes[start..<i]
        let text = String(decoding: literal, as: UTF8.self)
        guard JSONNumber.isLiteral(literal) else { throw error("'\(text)' is not a JSON number", at: start) }
        let n = JSONNumber(uncheckedText: text)
        guard n.isFinite else { throw error("\(text) is beyond the range of a double", at: start) }
        return n
    }
    static let numberBytes = Set("+-.0123456789eE".utf8)

    mutating func word(_ w: StaticString) throws {
        let n = w.utf8CodeUnitCount
        guard i + n <= bytes.count, UnsafeBufferPointer(start: w.utf8Start, count: n).elementsEqual(bytes[i..<i + n]) else {
            throw error("expected a value, found \(found)")
        }
        i += n
    }

    // MARK: Strings

    mutating func string() throws -> String {
        let open = i
        i += 1 // "
        var out: [UInt8] = []
        var start = i
        while true {
            guard i < bytes.count, bytes[i] != UInt8(ascii: "\n") else { throw error("unterminated string", at: open) }
            switch bytes[i] {
            case UInt8(ascii: "\""):
                out.append(contentsOf: bytes[start..<i])
                i += 1
                guard let s = String(bytes: out, encoding: .utf8) else { throw error("a string that is not valid UTF-8", at: open) }
                return s
            case UInt8(ascii: "\\"):
                out.append(contentsOf: bytes[start..<i])
                try escape(into: &out)
                start = i
            case 0..<0x20:
                throw error("control character U+\(Self.hex(bytes[i])) in a string (write it as an escape)")
            default:
                i += 1
            }
        }
    }

    /// One escape at `i` (the backslash), its UTF-8 appended to `out`.
    mutating func escape(into out: inout [UInt8]) throws {
        let at = i
        guard i + 1 < bytes.count else { throw error("unterminated string") }
        let c = bytes[i + 1]
        i += 2
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(c)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4(at: at)
            if (0xD800..<0xDC00).contains(scalar) {
                guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                    throw error("a lone surrogate \\u\(Self.hex(scalar)) (its pair must follow)", at: at)
                }
                let low = at + 6
                i += 2
                let lo = try hex4(at: low)
                guard (0xDC00..<0xE000).contains(lo) else { throw error("\\u\(Self.hex(lo)) cannot follow a high surrogate", at: low) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (lo - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw error("a lone surrogate \\u\(Self.hex(scalar)) (no high surrogate before it)", at: at)
            }
            out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            let shown = String(decoding: [c], as: UTF8.self)
            throw error("invalid escape '\\\(shown)' (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", at: at)
        }
    }

    /// The four hex digits at `i`; `at` is the escape's backslash, for errors.
    mutating func hex4(at: Int) throws -> UInt32 {
        guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16),
              bytes[i..<i + 4].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") }) else {
            throw error("invalid escape: \\u must be followed by four hex digits", at: at)
        }
        i += 4
        return v
    }

    // MARK: Bytes and positions

    /// Four upper-case hex digits ("000A", "D800").
    static func hex<I: BinaryInteger>(_ v: I) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    mutating func take(_ c: UInt8) -> Bool {
        guard peek(c) else { return false }
        i += 1
        return true
    }

    func peek(_ c: UInt8) -> Bool { i < bytes.count && bytes[i] == c }

    /// What is at `i`, for messages: "'x'" or "the end of input".
    var found: String {
        guard i < bytes.count else { return "the end of input" }
        var end = i + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return "'\(String(decoding: bytes[i..<end], as: UTF8.self))'"
    }

    func error(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        let at = min(offset ?? i, bytes.count)
        let lineStart = bytes[..<at].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        let line = bytes[..<at].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        // Characters, not bytes: UTF-8 continuation bytes do not start one.
        let column = bytes[lineStart..<at].reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
        return JSONSyntaxError(line: line, column: column, message: message)
    }
}
