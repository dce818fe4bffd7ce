/// A reason `rstrain eval` cannot evaluate: names the file(s) and what is wrong with them.
public struct EvalError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}
