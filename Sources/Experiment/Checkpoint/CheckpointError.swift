/// A snapshot that does not fit what it is checked against (a model, an optimizer, a layout):
/// names the model and the tensor or count that differs.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
