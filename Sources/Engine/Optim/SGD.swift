/// Stochastic gradient descent with PyTorch's `torch.optim.SGD` semantics, per element:
///   g = gradScale·grad + weightDecay·p                     (L2 decay added to the gradient)
///   b = g on the first step, else momentum·b + (1 − dampening)·g
///   d = nesterov ? g + momentum·b : b                      (d = g when momentum is 0)
///   p −= lr·d
/// State: "sgd.momentum" (only when momentum ≠ 0).
public final class SGD: Optimizer, @unchecked Sendable {
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public let dampening: Float
    public let parameterCount: Int
    public var step = 0
    private let buffer: FloatBuffer?

    public var kind: String { "sgd" }

    public init(parameterCount: Int, momentum: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0, dampening: Float = 0) throws {
        try requireHyper(momentum >= 0 && momentum.isFinite, "sgd", "momentum \(momentum) must be ≥ 0")
        try requireHyper(weightDecay >= 0 && weightDecay.isFinite, "sgd", "weightDecay \(weightDecay) must be ≥ 0")
        try requireHyper(dampening.isFinite, "sgd", "dampening \(dampening) must be finite")
        try requireHyper(!nesterov || (momentum > 0 && dampening == 0), "sgd",
                         "nesterov needs momentum > 0 and dampening 0 (got \(momentum), \(dampening))")
        self.parameterCount = parameterCount
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.dampening = dampening
        buffer = momentum != 0 ? FloatBuffer(count: parameterCount) : nil
    }

    public convenience init(for store: ParameterStore, momentum: Float = 0, nesterov: Bool = false,
                            weightDecay: Float = 0, dampening: Float = 0) throws {
        try self.init(parameterCount: store.count, momentum: momentum, nesterov: nesterov,
                      weightDecay: weightDecay, dampening: dampening)
    }

    public var stateTensors: [(name: String, data: UnsafeMutableBufferPointer<Float>)] {
        buffer.map { [("sgd.momentum", $0.buffer)] } ?? []
    }

    public func update(_ store: ParameterStore, learningRate lr: Float, gradScale s: Float) throws {
        try checkStore(store)
        let p = store.values.base, g = store.grads.base, n = parameterCount
        let wd = weightDecay, mu = momentum, keep = 1 - dampening
        // Separate loops per case keep each one branch-free so it vectorizes.
        if let buffer {
            let b = buffer.base
            switch (step == 0, nesterov) {
            case (true, false):
                for i in 0..<n { let gi = s * g[i] + wd * p[i]; b[i] = gi; p[i] -= lr * gi }
            case (true, true):
                for i in 0..<n { let gi = s * g[i] + wd * p[i]; b[i] = gi; p[i] -= lr * (gi + mu * gi) }
            case (false, false):
                for i in 0..<n {
                    let gi = s * g[i] + wd * p[i]
                    let bi = mu * b[i] + keep * gi
                    b[i] = bi; p[i] -= lr * bi
                }
            case (false, true):
                for i in 0..<n {
                    let gi = s * g[i] + wd * p[i]
                    let bi = mu * b[i] + keep * gi
                    b[i] = bi; p[i] -= lr * (gi + mu * bi)
                }
            }
        } else {
            for i in 0..<n { p[i] -= lr * (s * g[i] + wd * p[i]) }
        }
        step += 1
    }
}
