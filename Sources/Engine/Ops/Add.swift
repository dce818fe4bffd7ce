/// Elementwise sum of n inputs (residual and skip connections). Shapes: [S, S, …] → S.
/// With `relu` (kind "add_relu"): y = max(Σₖ xₖ, 0) in one pass — ResNet's residual join; backward
/// masks dY by y > 0, so no separate sum tensor is kept.
public struct Add: Layer {
    public let relu: Bool
    public init(relu: Bool = false) { self.relu = relu }
    public var kind: String { relu ? "add_relu" : "add" }
    public var writesFreshInputGradients: Bool { true }

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

    // forward: y = Σₖ xₖ  (relu: max(Σₖ xₖ, 0))
    public func forward(_ c: LayerContext, mode: Mode) {
        let y = c.output.data, n = c.output.count, relu = self.relu
        if c.inputs.count == 2 {
            let a = c.inputs[0].data, b = c.inputs[1].data
            Lanes.each(n) { i, l in
                let v = Lanes.load(a + i, l) + Lanes.load(b + i, l)
                Lanes.put(relu ? v.replacing(with: 0, where: v .< 0) : v, y + i, l, add: false)
            }
            return
        }
        y.update(from: c.inputs[0].data, count: n)
        for x in c.inputs.dropFirst() {
            let xp = x.data
            Lanes.each(n) { i, l in Lanes.put(Lanes.load(xp + i, l), y + i, l, add: true) }
        }
        if relu {
            Lanes.each(n) { i, l in
                let v = Lanes.load(y + i, l)
                Lanes.put(v.replacing(with: 0, where: v .< 0), y + i, l, add: false)
            }
        }
    }

    // backward: dxₖ += dy  (relu: dy·[y > 0]; dxₖ = … where the executor marks it fresh)
    public func backward(_ c: LayerContext, mode: Mode) {
        let dy = c.dOutput.data, y = c.output.data, n = c.output.count, relu = self.relu
        for (k, dx) in c.dInputs.enumerated() {
            guard let d = dx?.data else { continue }
            let add = !c.isFresh(k)
            Lanes.each(n) { i, l in
                let g = Lanes.load(dy + i, l)
                Lanes.put(relu ? Lanes.mask(g, Lanes.load(y + i, l) .> 0) : g, d + i, l, add: add)
            }
        }
    }
}
