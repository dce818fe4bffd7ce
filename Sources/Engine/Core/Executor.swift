/// A planned graph: every activation, activation gradient, saved tensor and the shared
/// workspace are laid out once in four arenas, and each layer's `LayerContext` is fixed.
/// A training step is then: fill inputs, `forward`, a loss writes the output gradients,
/// `backward` (parameter gradients accumulate in `parameters.grads`), an optimizer step.
///
/// Memory plan (floats, each region 16-float aligned):
///   activations  one region per value (graph inputs included), kept for backward
///   gradients    one region per value that needs a gradient
///   saved        one region per layer (indices, batch statistics, masks)
///   workspace    one region, the largest any single layer needs (im2col columns)
/// Each layer is planned once (`Layer.plan`): its algorithm, where it has a choice (a
/// convolution's), is fixed here with the memory it needs and handed to every call.
///
/// Activation gradients: backward ADDS into input gradients, so a value's gradient must start
/// at zero — except that the first backward to reach a value (its last consumer in graph
/// order) may WRITE it instead, if that layer supports it (`Layer.writesFreshInputGradients`)
/// and takes the value only once. The executor marks those in the layer's context
/// (`freshInputGradients`) and zeroes only the other gradients (values whose first consumer
/// in backward cannot write fresh, values nobody consumes); outputs' gradients come from the
/// loss and are never touched.
public final class Executor {
    public let graph: Graph
    public let parameters: ParameterStore
    public let outputs: [Value]
    private var contexts: [LayerContext] = []
    /// One per node, in graph order.
    private let plans: [LayerPlan]
    private let activations: FloatBuffer
    private let gradients: FloatBuffer
    private let savedArena: FloatBuffer
    private let workspace: FloatBuffer
    private var valueOffset: [Int]
    private var gradOffset: [Int?]
    /// Gradient regions the executor zeroes before backward: not outputs', and not written
    /// fresh by their first consumer in backward.
    private var zeroOnBackward: [Tensor] = []

    public struct MemoryPlan: CustomStringConvertible {
        public let activationFloats, gradientFloats, savedFloats, workspaceFloats, parameterFloats, stateFloats: Int
        public var totalBytes: Int { 4 * (activationFloats + gradientFloats + savedFloats + workspaceFloats + 2 * parameterFloats + stateFloats) }
        public var description: String {
            func mb(_ f: Int) -> String { String(Double(f) * 4 / 1_048_576).prefix(7) + " MB" }
            return "activations \(mb(activationFloats)), gradients \(mb(gradientFloats)), saved \(mb(savedFloats)), workspace \(mb(workspaceFloats)), parameters \(mb(parameterFloats)) (+ gradients), state \(mb(stateFloats))"
        }
    }
    public let memory: MemoryPlan

    init(graph: Graph, outputs: [Value], inputGradients: Bool) throws {
        self.graph = graph
        self.outputs = outputs
        @inline(__always) func align(_ n: Int) -> Int { (n + 15) & ~15 }
        let shapes = graph.shapes
        let inputIDs = Set(graph.inputValues.map(\.value.id))

        // Parameters and state, named "<layer>.<suffix>", in graph order.
        var params: [(name: String, spec: TensorSpec)] = []
        var states: [(name: String, spec: TensorSpec)] = []
        for n in graph.nodes {
            let ins = n.inputs.map { shapes[$0.id] }
            params += n.layer.parameters(ins).map { ("\(n.name).\($0.suffix)", $0) }
            states += n.layer.state(ins).map { ("\(n.name).\($0.suffix)", $0) }
        }
        parameters = try ParameterStore(parameters: params, state: states)

        // Activations and gradients.
        valueOffset = []
        gradOffset = []
        var a = 0, g = 0
        for (id, s) in shapes.enumerated() {
            valueOffset.append(a); a += align(s.count)
            if !inputIDs.contains(id) || inputGradients { gradOffset.append(g); g += align(s.count) } else { gradOffset.append(nil) }
        }
        plans = graph.nodes.map(graph.layerPlan)
        var savedOffsets: [Int] = []
        var sv = 0, ws = 0
        for p in plans {
            savedOffsets.append(sv)
            sv += align(p.savedCount)
            ws = max(ws, p.workspaceCount)
        }
        activations = FloatBuffer(count: a)
        gradients = FloatBuffer(count: g)
        savedArena = FloatBuffer(count: sv)
        workspace = FloatBuffer(count: ws)
        memory = MemoryPlan(activationFloats: a, gradientFloats: g, savedFloats: sv, workspaceFloats: ws,
                            parameterFloats: parameters.count, stateFloats: parameters.state.count)

        // Which value gradients the first backward to reach them writes fresh: the value's last
        // consumer, when it supports fresh writes and takes the value once; never outputs'.
        let outIDs = Set(outputs.map(\.id))
        var lastConsumer: [Int: Int] = [:]
        for (k, n) in graph.nodes.enumerated() { for v in n.inputs { lastConsumer[v.id] = k } }
        var freshValues = Set<Int>()
        for (id, k) in lastConsumer where !outIDs.contains(id) && gradOffset[id] != nil {
            let n = graph.nodes[k]
            if n.layer.writesFreshInputGradients && n.inputs.filter({ $0.id == id }).count == 1 { freshValues.insert(id) }
        }

        // Fixed contexts.
        for (k, n) in graph.nodes.enumerated() {
            let ins = n.inputs.map { activations.tensor(shapes[$0.id], at: valueOffset[$0.id]) }
            let dIns: [Tensor?] = n.inputs.map { v in gradOffset[v.id].map { gradients.tensor(shapes[v.id], at: $0) } }
            let ps = n.layer.parameters(n.inputs.map { shapes[$0.id] }).map { parameters.value("\(n.name).\($0.suffix)")! }
            let gs = n.layer.parameters(n.inputs.map { shapes[$0.id] }).map { parameters.grad("\(n.name).\($0.suffix)")! }
            let st = n.layer.state(n.inputs.map { shapes[$0.id] }).map { parameters.stateTensor("\(n.name).\($0.suffix)")! }
            let out = activations.tensor(shapes[n.output.id], at: valueOffset[n.output.id])
            let dOut = gradients.tensor(shapes[n.output.id], at: gradOffset[n.output.id]!)
            let fresh = n.inputs.map { lastConsumer[$0.id] == k && freshValues.contains($0.id) }
            contexts.append(LayerContext(name: n.name, inputs: ins, output: out, dInputs: dIns, dOutput: dOut,
                                         params: ps, grads: gs, state: st,
                                         saved: savedArena.base + savedOffsets[k], workspace: workspace.base,
                                         freshInputGradients: fresh, algorithm: plans[k].algorithm))
        }
        for (id, off) in gradOffset.enumerated() where !outIDs.contains(id) && !freshValues.contains(id) {
            if let off { zeroOnBackward.append(gradients.tensor(shapes[id], at: off)) }
        }
    }

    /// The buffer of a value (write graph inputs here; read outputs after `forward`).
    public func value(_ v: Value) -> Tensor { activations.tensor(graph.shapes[v.id], at: valueOffset[v.id]) }

    /// The gradient buffer of a value (set outputs' gradients here before `backward`), or nil
    /// for a graph input planned without input gradients.
    public func gradient(_ v: Value) -> Tensor? { gradOffset[v.id].map { gradients.tensor(graph.shapes[v.id], at: $0) } }

    /// Per-layer timing, off (nil) by default. Setting a profile attaches it to this graph's
    /// layers (one entry per node, in graph order); forward and backward then time each call.
    public var profile: ExecutorProfile? {
        didSet { if let profile { attach(profile) } }
    }

    private func attach(_ p: ExecutorProfile) {
        let shapes = graph.shapes
        p.entries = graph.nodes.enumerated().map { k, n in
            let ins = n.inputs.map { shapes[$0.id] }
            return ExecutorProfile.Entry(name: n.name, kind: n.layer.kind(for: ins), algorithm: plans[k].algorithm?.description,
                                         inputs: ins, output: shapes[n.output.id],
                                         flops: n.layer.flops(ins, output: shapes[n.output.id]),
                                         inputGradients: contexts[k].dInputs.contains { $0 != nil })
        }
    }

    public func forward(mode: Mode) {
        if let profile { return profiledForward(mode, profile) }
        for (k, n) in graph.nodes.enumerated() {
            n.layer.forward(contexts[k], mode: Self.layerMode(mode, k))
        }
    }

    /// Backpropagates from the outputs' gradients; parameter gradients are ADDED to
    /// `parameters.grads` (call `parameters.zeroGrads()` between optimizer steps).
    public func backward(mode: Mode) {
        if let profile { return profiledBackward(mode, profile) }
        for t in zeroOnBackward { t.zero() }
        for k in graph.nodes.indices.reversed() {
            graph.nodes[k].layer.backward(contexts[k], mode: Self.layerMode(mode, k))
        }
    }

    /// `backward(mode:)` calling `afterNode(k)` once node k's backward is done (nodes run in
    /// reverse order): from then on the parameter gradients of nodes k… are final for this pass,
    /// which lets a data-parallel step start reducing them while earlier nodes still run.
    public func backward(mode: Mode, afterNode: (Int) -> Void) {
        for t in zeroOnBackward { t.zero() }
        for k in graph.nodes.indices.reversed() {
            graph.nodes[k].layer.backward(contexts[k], mode: Self.layerMode(mode, k))
            afterNode(k)
        }
    }

    /// The range of `parameters.grads` (flat offsets) node k writes; nil for a node without parameters.
    public func gradientRange(ofNode k: Int) -> Range<Int>? {
        let base = parameters.grads.base
        let ranges = contexts[k].grads.map { ($0.data - base)..<($0.data - base + $0.count) }
        guard let lo = ranges.map(\.lowerBound).min(), let hi = ranges.map(\.upperBound).max() else { return nil }
        return lo..<hi
    }

    public var nodeCount: Int { graph.nodes.count }

    private func profiledForward(_ mode: Mode, _ p: ExecutorProfile) {
        for (k, n) in graph.nodes.enumerated() {
            let t0 = p.now()
            n.layer.forward(contexts[k], mode: Self.layerMode(mode, k))
            p.entries[k].forwardSeconds += p.now() - t0
            p.entries[k].forwardCalls += 1
        }
    }

    private func profiledBackward(_ mode: Mode, _ p: ExecutorProfile) {
        p.measure("executor.zero_gradients") { for t in zeroOnBackward { t.zero() } }
        for k in graph.nodes.indices.reversed() {
            let t0 = p.now()
            graph.nodes[k].layer.backward(contexts[k], mode: Self.layerMode(mode, k))
            p.entries[k].backwardSeconds += p.now() - t0
            p.entries[k].backwardCalls += 1
        }
    }

    /// Each layer gets its own random stream from the pass's seed.
    @inline(__always)
    static func layerMode(_ m: Mode, _ k: Int) -> Mode {
        if case .training(let seed) = m { return .training(seed: CounterRandom.key(seed, UInt64(k))) }
        return m
    }
}
