/// A JSON number as its literal text, so that nothing is lost between the document and the
/// value asked for: an integer literal reads exactly as `Int`, `Int64` or `UInt64` (64-bit seeds
/// included), and a fraction reads through Swift's `Double(String)` / `Float(String)`, which
/// round correctly (Foundation's JSONSerialization on Linux goes through `Decimal` for texts of
/// more than 17 characters and can land one ulp off).
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible {
    /// The literal (as parsed, or as written: see the initialisers).
    public let text: String

    /// `text` must be a JSON number literal (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`).
    public init?(text: String) {
        guard Self.isLiteral(text.utf8) else { return nil }
        self.text = text
    }

    init(uncheckedText: String) { text = uncheckedText }

    public init<I: BinaryInteger>(_ value: I) { text = String(value) }

    /// Swift's shortest text that reads back to the same double ("0.1", "1e-07", "-0.0", "3.0").
    /// A non-finite value keeps its text ("nan", "inf") and the writer refuses it.
    public init(_ value: Double) { text = value.description }

    /// The shortest text that reads back to the same float ("0.1", not 0.10000000149011612).
    public init(_ value: Float) { text = value.description }

    public var description: String { text }

    /// Written without a fraction or exponent.
    public var isIntegerLiteral: Bool { !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") } }

    /// The correctly rounded double (±infinity beyond its range; nil for a non-finite text).
    public var double: Double? { Double(text) }

    /// The correctly rounded float, straight from the text (no double rounding through Double).
    public var float: Float? { Float(text) }

    /// The exact integer: an integer literal within Int64's range, or a number written otherwise
    /// ("1e3", "2.0") whose value is an integer below 2^53, where doubles are exact.
    public var int64: Int64? {
        if isIntegerLiteral { return Int64(text) }
        guard let d = double, d.rounded() == d, abs(d) < 0x1p53 else { return nil }
        return Int64(d)
    }

    public var int: Int? { int64.flatMap { Int(exactly: $0) } }

    /// As `int64`, for the range of UInt64.
    public var uint64: UInt64? {
        if isIntegerLiteral { return UInt64(text) }
        return int64.flatMap { UInt64(exactly: $0) }
    }

    var isFinite: Bool { double?.isFinite ?? false }

    /// The same number, however written: 1, 1.0 and 1e0 are equal; integers compare exactly.
    public static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        if a.text == b.text { return true }
        if let x = a.int64, let y = b.int64 { return x == y }
        if let x = a.uint64, let y = b.uint64 { return x == y }
        return a.double == b.double
    }

    /// JSON's number grammar (RFC 8259 §6), over UTF-8 bytes.
    static func isLiteral<C: Collection>(_ b: C) -> Bool where C.Element == UInt8 {
        var i = b.startIndex
        func digits() -> Int {
            var n = 0
            while i != b.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { b.formIndex(after: &i); n += 1 }
            return n
        }
        func skip(_ c: UInt8) -> Bool {
            guard i != b.endIndex, b[i] == c else { return false }
            b.formIndex(after: &i)
            return true
        }
        _ = skip(UInt8(ascii: "-"))
        if skip(UInt8(ascii: "0")) {
            // no leading zeros
        } else if digits() == 0 { return false }
        if skip(UInt8(ascii: ".")), digits() == 0 { return false }
        if skip(UInt8(ascii: "e")) || skip(UInt8(ascii: "E")) {
            if !skip(UInt8(ascii: "+")) { _ = skip(UInt8(ascii: "-")) }
            if digits() == 0 { return false }
        }
        return i == b.endIndex
    }
}
