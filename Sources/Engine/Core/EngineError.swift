/// Errors the engine reports instead of crashing. Every case names the layer (or parameter)
/// and, for shapes, what was expected and what was given.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// A layer got inputs whose shapes it cannot take.
    case shape(layer: String, expected: String, got: String)
    /// A layer parameter (kernel size, stride, ...) is out of range.
    case parameter(layer: String, message: String)
    /// Named tensors do not match (weights files, views).
    case mismatch(String)

    public var description: String {
        switch self {
        case let .shape(layer, expected, got):
            return "layer '\(layer)': expected \(expected), got \(got)"
        case let .parameter(layer, message):
            return "layer '\(layer)': \(message)"
        case let .mismatch(message):
            return message
        }
    }
}

extension Shape {
    /// Throws unless this shape has `rank` dimensions.
    public func require(rank r: Int, layer: String, what: String) throws {
        guard rank == r else {
            throw EngineError.shape(layer: layer, expected: "\(what) (rank \(r))", got: "\(self) (rank \(rank))")
        }
    }
}
