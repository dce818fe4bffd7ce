import Engine

/// A `Graph` with the building blocks the model builders share, and PyTorch-style names
/// ("enc1.conv1" → parameters "enc1.conv1.weight", "enc1.conv1.bias").
public final class Net {
    public let graph = Graph()

    public init() {}

    public func shape(_ v: Value) -> Shape { graph.shape(v) }

    @discardableResult
    public func add(_ name: String, _ layer: any Layer, _ inputs: Value...) throws -> Value {
        try graph.add(name, layer, inputs)
    }

    @discardableResult
    public func add(_ name: String, _ layer: any Layer, _ inputs: [Value]) throws -> Value {
        try graph.add(name, layer, inputs)
    }

    /// Convolution with "same" padding for odd kernels at stride 1 (d·(k−1)/2) unless given.
    public func conv(_ name: String, _ x: Value, _ out: Int, kernel: Int = 3, stride: Int = 1,
                     padding: Int? = nil, dilation: Int = 1, bias: Bool = true) throws -> Value {
        try add(name, Conv(outChannels: out, kernel: kernel, stride: stride,
                           padding: padding ?? dilation * (kernel - 1) / 2, dilation: dilation, bias: bias), x)
    }

    /// conv → [batch norm] → [activation] → [dropout], named prefix.conv{i}, prefix.bn{i},
    /// prefix.relu{i}, prefix.drop{i}.
    public func convBlock(_ prefix: String, _ x: Value, _ out: Int, index i: Int = 1, kernel: Int = 3,
                          stride: Int = 1, padding: Int? = nil, dilation: Int = 1, batchNorm: Bool = true,
                          activation: Activation? = .relu, dropout: Double = 0) throws -> Value {
        var h = try conv("\(prefix).conv\(i)", x, out, kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        if batchNorm { h = try add("\(prefix).bn\(i)", BatchNorm(), h) }
        if let activation { h = try add("\(prefix).\(activation.kind)\(i)", activation, h) }
        if dropout > 0 { h = try add("\(prefix).drop\(i)", Dropout(Float(dropout)), h) }
        return h
    }
}
