/// Mean over one axis, removing it. Shapes: N×C×D×H×W → N×C×H×W (axis 2: a time series of
/// images collapsed to one map), or any rank ≥ 3 with 1 ≤ axis < rank.
///   y[a, b] = (1/D) Σ_d x[a, d, b]   with a the outer index, b the inner one
public struct MeanAxis: Layer {
    public let axis: Int
    public init(axis: Int) { self.axis = axis }
    public var kind: String { "mean_axis" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        let x = inputs[0]
        guard axis >= 1, axis < x.rank, x.rank >= 2 else {
            throw EngineError.shape(layer: name, expected: "a tensor with an axis \(axis) to average (and a batch axis before it)", got: "\(x)")
        }
        var d = x.dims
        d.remove(at: axis)
        return Shape(d)
    }

    /// (outer, length of the axis, inner) sizes.
    private func split(_ s: Shape) -> (Int, Int, Int) {
        (s.dims[..<axis].reduce(1, *), s.dims[axis], s.dims[(axis + 1)...].reduce(1, *))
    }

    // forward: y[a, b] = mean_d x[a, d, b]
    public func forward(_ c: LayerContext, mode: Mode) {
        let (outer, n, inner) = split(c.inputs[0].shape)
        let x = c.inputs[0].data, y = c.output.data, scale = 1 / Float(n)
        for a in 0..<outer {
            let ya = y + a * inner
            ya.update(repeating: 0, count: inner)
            for d in 0..<n {
                let xd = x + (a * n + d) * inner
                for b in 0..<inner { ya[b] += xd[b] }
            }
            for b in 0..<inner { ya[b] *= scale }
        }
    }

    public var writesFreshInputGradients: Bool { true }

    // backward: dx[a, d, b] += dy[a, b] / D  (= where marked fresh)
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dxT = c.dInputs[0] else { return }
        let (outer, n, inner) = split(c.inputs[0].shape)
        let dx = dxT.data, dy = c.dOutput.data, scale = 1 / Float(n)
        let add = !c.isFresh(0)
        for a in 0..<outer {
            let dya = dy + a * inner
            for d in 0..<n {
                let dxd = dx + (a * n + d) * inner
                Lanes.each(inner) { b, k in Lanes.put(Lanes.load(dya + b, k) * scale, dxd + b, k, add: add) }
            }
        }
    }
}
