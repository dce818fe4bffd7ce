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

    public var writesFreshInputGradients: Bool { true }

    // backward: dx += dy · f'(x), with f' from x (relu) or from y (sigmoid, tanh)
    // (dx = … where the executor marks dx fresh)
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dxT = c.dInputs[0] else { return }
        let x = c.inputs[0].data, y = c.output.data, dy = c.dOutput.data, dx = dxT.data, n = c.output.count
        let add = !c.isFresh(0)
        switch function {
        case .relu:
            Lanes.each(n) { i, k in
                let g = Lanes.mask(Lanes.load(dy + i, k), Lanes.load(x + i, k) .> 0)
                Lanes.put(g, dx + i, k, add: add)
            }
        case .leakyReLU(let a):
            Lanes.each(n) { i, k in
                let g = Lanes.load(dy + i, k)
                Lanes.put((a * g).replacing(with: g, where: Lanes.load(x + i, k) .> 0), dx + i, k, add: add)
            }
        case .sigmoid:
            Lanes.each(n) { i, k in
                let v = Lanes.load(y + i, k)
                Lanes.put(Lanes.load(dy + i, k) * v * (1 - v), dx + i, k, add: add)
            }
        case .tanh:
            Lanes.each(n) { i, k in
                let v = Lanes.load(y + i, k)
                Lanes.put(Lanes.load(dy + i, k) * (1 - v * v), dx + i, k, add: add)
            }
        }
    }
}
