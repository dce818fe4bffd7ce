/// A value (tensor) produced in a graph: a graph input or a layer's output.
public struct Value: Hashable, Sendable {
    public let id: Int
}

/// A model as a directed acyclic graph of layers, built in execution order.
/// Shapes are checked as layers are added, so a mismatch is reported at build time with the
/// layer's name. `plan()` lays out every buffer once and returns an `Executor`.
public final class Graph {
    public struct Node {
        public let name: String
        public let layer: any Layer
        public let inputs: [Value]
        public let output: Value
    }

    public private(set) var nodes: [Node] = []
    public private(set) var shapes: [Shape] = []
    public private(set) var inputValues: [(name: String, value: Value)] = []
    private var names: Set<String> = []

    public init() {}

    public func shape(_ v: Value) -> Shape { shapes[v.id] }

    /// Declares a graph input (shape includes the batch dimension).
    public func input(_ name: String, _ shape: Shape) -> Value {
        let v = Value(id: shapes.count)
        shapes.append(shape)
        inputValues.append((name, v))
        return v
    }

    /// Appends a layer; throws if its name is taken or its inputs do not fit it.
    @discardableResult
    public func add(_ name: String, _ layer: any Layer, _ inputs: Value...) throws -> Value {
        try add(name, layer, inputs)
    }

    @discardableResult
    public func add(_ name: String, _ layer: any Layer, _ inputs: [Value]) throws -> Value {
        guard !names.contains(name) else { throw EngineError.mismatch("duplicate layer name '\(name)'") }
        let out = try layer.outputShape(inputs.map { shapes[$0.id] }, name: name)
        names.insert(name)
        let v = Value(id: shapes.count)
        shapes.append(out)
        nodes.append(Node(name: name, layer: layer, inputs: inputs, output: v))
        return v
    }

    /// What planning fixes for a node on the graph's shapes: its algorithm (where it has a
    /// choice) and memory. `plan()` asks each node once; summaries may ask without planning.
    public func layerPlan(_ n: Node) -> LayerPlan {
        n.layer.plan(n.inputs.map { shapes[$0.id] }, output: shapes[n.output.id])
    }

    /// Trainable parameter count.
    public var parameterCount: Int {
        nodes.reduce(0) { acc, n in acc + n.layer.parameters(n.inputs.map { shapes[$0.id] }).reduce(0) { $0 + $1.shape.count } }
    }

    /// Lays out all memory and returns an executor.
    /// - outputs: values whose gradients the caller sets (from a loss) before `backward`.
    /// - inputGradients: also compute gradients w.r.t. graph inputs (for gradient checks).
    public func plan(outputs: [Value], inputGradients: Bool = false) throws -> Executor {
        try Executor(graph: self, outputs: outputs, inputGradients: inputGradients)
    }
}
