/// Max unpooling (SegNet). Shapes: inputs [x, poolInput]
///   poolInput  N×C×spatial            the value a MaxPool with the same settings pooled
///   x          N×C×pooled(spatial)    shaped like that MaxPool's output
///   y          N×C×spatial            (poolInput's shape)
/// The argmax positions are recomputed from poolInput with `PoolGeometry.argmax`, the rule
/// MaxPool uses, so the graph needs no multi-output nodes. y is zero except at those positions,
/// which receive x. Where overlapping windows (stride < kernel) share an argmax the values
/// add, which keeps backward the exact adjoint.
/// Gradients: dx gathers dY at the argmax positions. poolInput gets none: y depends on it only
/// through which positions win, which is piecewise constant (zero derivative almost everywhere).
public struct MaxUnpool: Layer, PoolWindow {
    public let kernel: [Int], stride: [Int], padding: [Int]

    /// The settings of the MaxPool being undone (one value or one per spatial dim).
    public init(kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0]) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
    }
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernel: [kernel], stride: [stride ?? kernel], padding: [padding])
    }

    public var kind: String { "maxunpool" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 2, layer: name)
        let g = try checkedGeometry(inputs[1], layer: name)
        let pooled = g.outputShape(inputs[1])
        guard inputs[0] == pooled else {
            throw EngineError.shape(layer: name, expected: "x of shape \(pooled) (pool input \(inputs[1]) pooled)",
                                    got: "\(inputs[0])")
        }
        return inputs[1]
    }

    /// Saved: one Int32 argmax per element of x.
    public func plan(_ inputs: [Shape], output: Shape) -> LayerPlan { LayerPlan(savedCount: inputs[0].count) }

    // forward: idx = argmax(poolInput); y = 0; y[plane, idx[j]] += x[j]
    public func forward(_ c: LayerContext, mode: Mode) {
        let g = geometry(c.inputs[1].shape)
        let idx = UnsafeMutableRawPointer(c.saved).assumingMemoryBound(to: Int32.self)
        g.argmax(c.inputs[1].data, indices: idx, values: nil)
        c.output.zero()
        let x = c.inputs[0].data, y = c.output.data
        let op = g.output.count, ip = g.input.count
        for pl in 0..<g.planes {
            let yp = y + pl * ip, base = pl * op
            for j in base..<(base + op) { yp[Int(idx[j])] += x[j] }
        }
    }

    // backward: dx[j] += dy[plane, idx[j]]; nothing for poolInput (see above)
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dxT = c.dInputs[0] else { return }
        let g = geometry(c.inputs[1].shape)
        let idx = UnsafeMutableRawPointer(c.saved).assumingMemoryBound(to: Int32.self)
        let dx = dxT.data, dy = c.dOutput.data
        let op = g.output.count, ip = g.input.count
        for pl in 0..<g.planes {
            let dyp = dy + pl * ip, base = pl * op
            for j in base..<(base + op) { dx[j] += dyp[Int(idx[j])] }
        }
    }
}
