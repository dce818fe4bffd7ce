import Engine

/// What a model's output means, which picks the loss and how predictions are written.
public enum Task: String, Sendable {
    /// Class scores: N×K (scene) or N×K×spatial (per pixel); softmax cross-entropy.
    case classification
    /// Linear outputs: N×K or N×K×spatial; MSE / L1.
    case regression
}

/// A built model: its graph for one batch size, input and output values, and the parameters
/// it was built from.
public final class Model {
    public let arch: String
    public let params: Params
    public let graph: Graph
    public let input: Value
    public let output: Value
    public let task: Task

    init(arch: String, params: Params, graph: Graph, input: Value, output: Value, task: Task) {
        self.arch = arch
        self.params = params
        self.graph = graph
        self.input = input
        self.output = output
        self.task = task
    }

    public var inputShape: Shape { graph.shape(input) }
    public var outputShape: Shape { graph.shape(output) }
    public var parameterCount: Int { graph.parameterCount }

    /// Plans memory for training (gradients w.r.t. the output are set by the loss).
    public func plan() throws -> Executor { try graph.plan(outputs: [output]) }
}

/// One family of models (`unet`, `resnet`, ...), built from a few JSON settings.
public protocol ModelBuilder {
    /// The `arch` value that selects this builder.
    static var arch: String { get }
    /// One line: what the model is and where it comes from.
    static var summary: String { get }
    static var parameters: [Parameter] { get }
    /// Checks that involve several settings (not the input); errors name the key.
    static func validate(_ p: Params) throws
    /// Per-sample input shape (C×…) used when the caller gives none.
    static func defaultInput(_ p: Params) -> [Int]
    /// Adds the network to `net` after `input` (N×per-sample); returns the output value.
    static func build(_ p: Params, _ net: Net, input: Value) throws -> Value
    static func task(_ p: Params) -> Task
}

extension ModelBuilder {
    public static func validate(_ p: Params) throws {}
    public static func task(_ p: Params) -> Task {
        p.has("task") && p.string("task") == "regression" ? .regression : .classification
    }
}
