/// Fully connected layer. Shapes: N×F → N×O (rank-2 input only; flatten first).
///   y = x·Wᵀ + b,  W [O, F] (PyTorch layout), b [O]
/// Weight init: He uniform, bound √(6/F) (Kaiming for the ReLU networks rstrain builds;
/// `.glorot` gives √(6/(F+O)) for tanh/sigmoid or linear heads). Bias: zeros.
public struct Dense: Layer {
    public enum WeightInit: Sendable, Equatable { case he, glorot }

    public let outFeatures: Int
    public let bias: Bool
    public let weightInit: WeightInit

    public init(_ outFeatures: Int, bias: Bool = true, weightInit: WeightInit = .he) {
        self.outFeatures = outFeatures
        self.bias = bias
        self.weightInit = weightInit
    }

    public var kind: String { "dense" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        let s = inputs[0]
        try s.require(rank: 2, layer: name, what: "N×F input (flatten spatial inputs first)")
        guard s[0] > 0, s[1] > 0 else {
            throw EngineError.shape(layer: name, expected: "N×F with positive sizes", got: "\(s)")
        }
        guard outFeatures > 0 else {
            throw EngineError.parameter(layer: name, message: "outFeatures \(outFeatures) must be > 0")
        }
        return Shape(s[0], outFeatures)
    }

    public func parameters(_ inputs: [Shape]) -> [TensorSpec] {
        let f = inputs[0][1]
        let w: Initializer = weightInit == .he ? .heUniform(fanIn: f) : .glorotUniform(fanIn: f, fanOut: outFeatures)
        var specs = [TensorSpec("weight", Shape(outFeatures, f), w)]
        if bias { specs.append(TensorSpec("bias", Shape(outFeatures), .zeros)) }
        return specs
    }

    public func flops(_ inputs: [Shape], output: Shape) -> LayerFlops {
        let f = 2 * Double(inputs[0].count) * Double(outFeatures)
        return LayerFlops(forward: f, backwardParams: f, backwardInputs: f)
    }

    // forward: y[N×O] = x[N×F] · W[O×F]ᵀ (+ b per row)
    public func forward(_ c: LayerContext, mode: Mode) {
        let n = c.inputs[0].shape[0], f = c.inputs[0].shape[1], o = outFeatures
        let y = c.output.data
        BLAS.sgemm(transB: true, m: n, n: o, k: f, a: c.inputs[0].data, lda: f,
                   b: c.params[0].data, ldb: f, beta: 0, c: y, ldc: o)
        if bias {
            let b = c.params[1].data
            for r in 0..<n {
                let yr = y + r * o
                for j in 0..<o { yr[j] += b[j] }
            }
        }
    }

    // backward: dx[N×F] += dy[N×O]·W[O×F];  dW[O×F] += dyᵀ·x;  db[O] += Σ_rows dy
    public func backward(_ c: LayerContext, mode: Mode) {
        let n = c.inputs[0].shape[0], f = c.inputs[0].shape[1], o = outFeatures
        let dy = c.dOutput.data
        if let dx = c.dInputs[0] {
            BLAS.sgemm(m: n, n: f, k: o, a: dy, lda: o, b: c.params[0].data, ldb: f,
                       beta: 1, c: dx.data, ldc: f)
        }
        BLAS.sgemm(transA: true, m: o, n: f, k: n, a: dy, lda: o, b: c.inputs[0].data, ldb: f,
                   beta: 1, c: c.grads[0].data, ldc: f)
        if bias {
            let db = c.grads[1].data
            for r in 0..<n {
                let g = dy + r * o
                for j in 0..<o { db[j] += g[j] }
            }
        }
    }
}
