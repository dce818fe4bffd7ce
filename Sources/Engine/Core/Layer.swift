/// How a parameter or state tensor starts.
public enum Initializer: Sendable, Equatable {
    case zeros
    case ones
    case constant(Float)
    /// Uniform in [-bound, bound].
    case uniform(bound: Float)
    /// He (Kaiming) uniform for a ReLU network: bound sqrt(6 / fanIn).
    case heUniform(fanIn: Int)
    /// Glorot (Xavier) uniform: bound sqrt(6 / (fanIn + fanOut)).
    case glorotUniform(fanIn: Int, fanOut: Int)
    case normal(std: Float)
}

/// A tensor a layer owns: `suffix` is appended to the layer name ("enc1.conv1" + "weight").
public struct TensorSpec: Sendable, Equatable {
    public var suffix: String
    public var shape: Shape
    public var initializer: Initializer
    public init(_ suffix: String, _ shape: Shape, _ initializer: Initializer) {
        self.suffix = suffix
        self.shape = shape
        self.initializer = initializer
    }
}

/// Whether a pass trains (batch statistics, dropout on) or infers.
public enum Mode: Sendable, Equatable {
    /// `seed` keys this pass's randomness (dropout): the same seed gives the same masks.
    case training(seed: UInt64)
    case inference

    public var isTraining: Bool { if case .training = self { return true } else { return false } }
}

/// Everything one layer call touches, fixed when a graph is planned (pointers into arenas).
/// Forward reads `inputs`, `params`, `state` and writes `output` (and `saved`, `state` when
/// training). Backward reads `dOutput` and ADDS into `dInputs` and `grads` (a value feeding
/// two layers sums both contributions; gradients accumulate over micro-batches until zeroed) —
/// except where `freshInputGradients[k]` is true (see there).
public struct LayerContext: @unchecked Sendable {
    public var name: String
    public var inputs: [Tensor]
    public var output: Tensor
    /// Gradients w.r.t. inputs; nil where no gradient is needed (graph inputs).
    public var dInputs: [Tensor?]
    /// Per input: true when `dInputs[k]` holds no contribution yet and stale contents, so
    /// backward must WRITE every element of it (=) instead of adding (+=). The executor sets it
    /// only for layers with `Layer.writesFreshInputGradients`, on the first backward to reach
    /// a value (the value's last consumer in graph order), and so saves zeroing that gradient.
    /// Always false for layers that do not declare support; empty means all false.
    public var freshInputGradients: [Bool]
    public var dOutput: Tensor
    public var params: [Tensor]
    public var grads: [Tensor]
    public var state: [Tensor]
    /// Per-call memory kept from forward to backward (pool indices, BN statistics, masks).
    public var saved: UnsafeMutablePointer<Float>
    /// Scratch shared by all layers (im2col columns); valid only during one call.
    public var workspace: UnsafeMutablePointer<Float>
    /// The algorithm `Layer.plan` chose for these shapes (nil where the layer has no choice).
    public var algorithm: (any LayerAlgorithm)?

    /// Whether backward writes (true) or adds into (false) input gradient `k`.
    @inline(__always)
    public func isFresh(_ k: Int) -> Bool { freshInputGradients[k] }

    /// `algorithm` as the layer's own type. Stops the program if the context was built without
    /// the layer's plan (a context built by hand must pass `Layer.plan(...).algorithm`).
    @inline(__always)
    public func planned<A: LayerAlgorithm>(_ type: A.Type) -> A {
        guard let a = algorithm as? A else { fatalError("layer '\(name)': its context holds no planned \(A.self) (see Layer.plan)") }
        return a
    }

    public init(name: String, inputs: [Tensor], output: Tensor, dInputs: [Tensor?], dOutput: Tensor,
                params: [Tensor], grads: [Tensor], state: [Tensor],
                saved: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>,
                freshInputGradients: [Bool] = [], algorithm: (any LayerAlgorithm)? = nil) {
        self.name = name
        self.inputs = inputs
        self.output = output
        self.dInputs = dInputs
        self.freshInputGradients = freshInputGradients.isEmpty ? Array(repeating: false, count: inputs.count) : freshInputGradients
        self.dOutput = dOutput
        self.params = params
        self.grads = grads
        self.state = state
        self.saved = saved
        self.workspace = workspace
        self.algorithm = algorithm
    }
}

/// One of the ways a layer can compute the same op (a convolution as Winograd, implicit GEMM,
/// im2col…); its description names it in summaries and profiles ("winograd").
public protocol LayerAlgorithm: Sendable, CustomStringConvertible {}

/// What planning fixes for one layer on its shapes, once, before any call (Caffe's LayerSetUp):
/// the algorithm, where the layer has a choice, and the memory that algorithm needs.
public struct LayerPlan: Sendable {
    /// Passed back to every call in `LayerContext.algorithm`; nil where there is no choice.
    public var algorithm: (any LayerAlgorithm)?
    /// Floats kept from forward to backward.
    public var savedCount: Int
    /// Floats of shared scratch needed during a call.
    public var workspaceCount: Int

    public init(algorithm: (any LayerAlgorithm)? = nil, savedCount: Int = 0, workspaceCount: Int = 0) {
        self.algorithm = algorithm
        self.savedCount = savedCount
        self.workspaceCount = workspaceCount
    }
}

/// One op of the engine: a forward/backward pair with its shape rule.
/// Layers are immutable descriptions (kernel size, stride, ...); all memory comes from the
/// graph's plan, so a layer value can be shared and a call never allocates.
public protocol Layer: Sendable {
    /// Short op name ("conv", "maxpool").
    var kind: String { get }
    /// The op name for these inputs, for summaries ("conv2d" for an N×C×H×W input).
    func kind(for inputs: [Shape]) -> String
    /// Output shape for these inputs. Throws `EngineError.shape` naming `name` when the
    /// inputs do not fit, `EngineError.parameter` when the layer's settings are invalid.
    func outputShape(_ inputs: [Shape], name: String) throws -> Shape
    /// Trainable tensors, in order.
    func parameters(_ inputs: [Shape]) -> [TensorSpec]
    /// Non-trainable tensors saved in checkpoints (batch-norm running statistics).
    func state(_ inputs: [Shape]) -> [TensorSpec]
    /// The algorithm and memory of a call on these shapes (batch included), decided once when a
    /// graph is planned. Default: no choice, no saved floats, no workspace.
    func plan(_ inputs: [Shape], output: Shape) -> LayerPlan
    /// Floating-point operations of one call, for profiles (zero where not meaningful).
    func flops(_ inputs: [Shape], output: Shape) -> LayerFlops
    /// True if backward honours `LayerContext.freshInputGradients`: where it is set, backward
    /// writes every element of that input gradient instead of adding. Default false (the
    /// executor then zeroes the gradient before backward).
    var writesFreshInputGradients: Bool { get }
    func forward(_ c: LayerContext, mode: Mode)
    func backward(_ c: LayerContext, mode: Mode)
}

extension Layer {
    public func kind(for inputs: [Shape]) -> String { kind }
    public func parameters(_ inputs: [Shape]) -> [TensorSpec] { [] }
    public func state(_ inputs: [Shape]) -> [TensorSpec] { [] }
    public func plan(_ inputs: [Shape], output: Shape) -> LayerPlan { LayerPlan() }
    public func flops(_ inputs: [Shape], output: Shape) -> LayerFlops { .zero }
    public var writesFreshInputGradients: Bool { false }
}

/// Throws unless exactly `n` inputs were given.
public func requireInputs(_ inputs: [Shape], _ n: Int, layer: String) throws {
    guard inputs.count == n else {
        throw EngineError.shape(layer: layer, expected: "\(n) input(s)", got: "\(inputs.count): " + inputs.map(\.description).joined(separator: ", "))
    }
}
