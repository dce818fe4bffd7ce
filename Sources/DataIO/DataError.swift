/// An I/O failure in a data file: names the file, the object in it (dataset, attribute,
/// band, window) when there is one, and what went wrong, in rstrain's words.
public struct DataError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let object: String?
    public let message: String

    public init(path: String, object: String? = nil, _ message: String) {
        self.path = path
        self.object = object
        self.message = message
    }

    public var description: String {
        if let object { return "\(path): \(object): \(message)" }
        return "\(path): \(message)"
    }
}
