/// Elementwise activations. Shapes: any → same.
public struct Activation: Layer {
    public enum Function: Sendable, Equatable {
        case relu
        case leakyReLU(slope: Float)
        case sigmoid
        case tanh
    }
    public let function: Function
    public init(_ f: Function) { function = f }

    public static let relu = Activation(.relu)
    public static func leakyReLU(_ slope: Float = 0.01) -> Activation { Activation(.leakyReLU(slope: slope)) }
    public static let sigmoid = Activation(.sigmoid)
    public static let tanh = Activation(.tanh)

    public var kind: String {
        switch function {
        case .relu: return "relu"
        case .leakyReLU: return "leaky_relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        }
    }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        return inputs[0]
    }

    // forward: y = f(x)
    public func forward(_ c: LayerContext, mode: Mode) {
        let x = c.inputs[0].data, y = c.output.data, n = c.output.count
        switch function {
        case .relu: for i in 0..<n { y[i] = max(x[i], 0) }
        case .leakyReLU(let a): for i in 0..<n { let v = x[i]; y[i] = v > 0 ? v : a * v }
        case .sigmoid: for i in 0..<n { y[i] = 1 / (1 + _expf(-x[i])) }
        case .tanh: for i in 0..<n { y[i] = _tanhf(x[i]) }
        }
    }

    // backward: dx += dy · f'(x), with f' from x (relu) or from y (sigmoid, tanh)
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dxT = c.dInputs[0] else { return }
        let x = c.inputs[0].data, y = c.output.data, dy = c.dOutput.data, dx = dxT.data, n = c.output.count
        switch function {
        case .relu: for i in 0..<n { dx[i] += x[i] > 0 ? dy[i] : 0 }
        case .leakyReLU(let a): for i in 0..<n { dx[i] += x[i] > 0 ? dy[i] : a * dy[i] }
        case .sigmoid: for i in 0..<n { dx[i] += dy[i] * y[i] * (1 - y[i]) }
        case .tanh: for i in 0..<n { dx[i] += dy[i] * (1 - y[i] * y[i]) }
        }
    }
}
