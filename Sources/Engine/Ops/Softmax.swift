/// Softmax over the channel axis (dim 1). Shapes: N×C or N×C×spatial (any rank ≥ 2) → same.
/// y[n,c,s] = exp(x[n,c,s] − max_c x[n,·,s]) / Σ_c exp(x[n,c,s] − max_c x[n,·,s])
/// Subtracting the per-pixel maximum keeps exp from overflowing (all exponents ≤ 0, one is 0,
/// so the sum is in [1, C]).
///
/// Loops run channel-outer, pixel-inner over one sample so every access is contiguous;
/// per-pixel maxima and sums live in the workspace (2·spatial floats).
public struct Softmax: Layer {
    public init() {}

    public var kind: String { "softmax" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        let s = inputs[0]
        guard s.rank >= 2, s.dims.allSatisfy({ $0 > 0 }) else {
            throw EngineError.shape(layer: name, expected: "N×C or N×C×spatial with positive sizes", got: "\(s)")
        }
        return s
    }

    public func plan(_ inputs: [Shape], output: Shape) -> LayerPlan {
        LayerPlan(workspaceCount: 2 * inputs[0].count / (inputs[0].batch * inputs[0].channels))
    }

    public func forward(_ c: LayerContext, mode: Mode) {
        let s = c.inputs[0].shape
        let n = s.batch, ch = s.channels, sp = s.count / (n * ch)
        let mx = c.workspace, sum = c.workspace + sp
        for b in 0..<n {
            let x = c.inputs[0].data + b * ch * sp, y = c.output.data + b * ch * sp
            mx.update(from: x, count: sp)
            for k in 1..<ch {
                let xk = x + k * sp
                for i in 0..<sp { mx[i] = max(mx[i], xk[i]) }
            }
            sum.update(repeating: 0, count: sp)
            for k in 0..<ch {
                let xk = x + k * sp, yk = y + k * sp
                for i in 0..<sp {
                    let e = _expf(xk[i] - mx[i])
                    yk[i] = e
                    sum[i] += e
                }
            }
            for i in 0..<sp { sum[i] = 1 / sum[i] }
            for k in 0..<ch {
                let yk = y + k * sp
                for i in 0..<sp { yk[i] *= sum[i] }
            }
        }
    }

    // backward: dx[c] += y[c]·(dy[c] − Σ_k dy[k]·y[k]), per pixel
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dxT = c.dInputs[0] else { return }
        let s = c.inputs[0].shape
        let n = s.batch, ch = s.channels, sp = s.count / (n * ch)
        let dot = c.workspace
        for b in 0..<n {
            let off = b * ch * sp
            let y = c.output.data + off, dy = c.dOutput.data + off, dx = dxT.data + off
            dot.update(repeating: 0, count: sp)
            for k in 0..<ch {
                let yk = y + k * sp, gk = dy + k * sp
                for i in 0..<sp { dot[i] += yk[i] * gk[i] }
            }
            for k in 0..<ch {
                let yk = y + k * sp, gk = dy + k * sp, dk = dx + k * sp
                for i in 0..<sp { dk[i] += yk[i] * (gk[i] - dot[i]) }
            }
        }
    }
}
