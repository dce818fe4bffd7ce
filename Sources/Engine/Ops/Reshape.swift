/// The same data under another per-sample shape (batch kept). Shapes: N×… → N×`shape`,
/// equal element counts. Copies, so no two values share memory.
public struct Reshape: Layer {
    public let shape: [Int]
    public init(_ perSample: [Int]) { shape = perSample }
    public var kind: String { "reshape" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        let x = inputs[0]
        guard x.rank >= 1, shape.allSatisfy({ $0 >= 1 }), shape.reduce(1, *) == x.perSample else {
            throw EngineError.shape(layer: name, expected: "N×\(shape.map(String.init).joined(separator: "×")) elements per sample (\(shape.reduce(1, *)))", got: "\(x)")
        }
        return Shape([x.batch] + shape)
    }

    public func forward(_ c: LayerContext, mode: Mode) { c.output.copy(from: c.inputs[0].data) }

    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dx = c.dInputs[0]?.data else { return }
        let dy = c.dOutput.data
        for i in 0..<c.output.count { dx[i] += dy[i] }
    }
}
