/// A JSON object that keeps its keys in order (the document's, or the order they were set), so
/// that a config or a record read and written back out reads the same. Lookups go through an
/// index; equality ignores the order, as JSON does.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var keys: [String] = []
    private var values: [String: JSONValue] = [:]

    public init() {}

    /// Later pairs replace earlier ones with the same key (keeping the first one's place).
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, JSONValue) {
        for (k, v) in pairs { self[k] = v }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Setting a new key appends it; setting nil removes the key.
    public subscript(key: String) -> JSONValue? {
        get { values[key] }
        set {
            switch (values[key], newValue) {
            case (nil, let v?): keys.append(key); values[key] = v
            case (_?, let v?): values[key] = v
            case (_?, nil): keys.removeAll { $0 == key }; values[key] = nil
            case (nil, nil): break
            }
        }
    }

    public func makeIterator() -> some IteratorProtocol<(key: String, value: JSONValue)> {
        keys.lazy.map { (key: $0, value: self.values[$0]!) }.makeIterator()
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool { a.values == b.values }
}
