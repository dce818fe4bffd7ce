/// Flattens all but the batch dimension. Shapes: N×… → N×F, F = product of the rest.
/// The layout is unchanged (row-major), so forward is a copy and backward an add.
public struct Flatten: Layer {
    public init() {}
    public var kind: String { "flatten" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        guard inputs[0].rank >= 2 else {
            throw EngineError.shape(layer: name, expected: "N×… (rank ≥ 2)", got: "\(inputs[0])")
        }
        return Shape(inputs[0][0], inputs[0].perSample)
    }

    // forward: y = x
    public func forward(_ c: LayerContext, mode: Mode) {
        c.output.copy(from: c.inputs[0].data)
    }

    // backward: dx += dy
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dx = c.dInputs[0]?.data else { return }
        let dy = c.dOutput.data
        for i in 0..<c.output.count { dx[i] += dy[i] }
    }
}
