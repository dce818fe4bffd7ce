/// Elementwise sum of n inputs (residual and skip connections). Shapes: [S, S, …] → S.
public struct Add: Layer {
    public init() {}
    public var kind: String { "add" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        guard let first = inputs.first else {
            throw EngineError.shape(layer: name, expected: "at least 1 input", got: "none")
        }
        guard inputs.allSatisfy({ $0 == first }) else {
            throw EngineError.shape(layer: name, expected: "inputs of one shape",
                                    got: inputs.map(\.description).joined(separator: ", "))
        }
        return first
    }

    // forward: y = Σₖ xₖ
    public func forward(_ c: LayerContext, mode: Mode) {
        let y = c.output.data, n = c.output.count
        y.update(from: c.inputs[0].data, count: n)
        for x in c.inputs.dropFirst() {
            let xp = x.data
            for i in 0..<n { y[i] += xp[i] }
        }
    }

    // backward: dxₖ += dy
    public func backward(_ c: LayerContext, mode: Mode) {
        let dy = c.dOutput.data, n = c.output.count
        for case let dx? in c.dInputs {
            let d = dx.data
            for i in 0..<n { d[i] += dy[i] }
        }
    }
}
