/// All trainable parameters of a model in one flat buffer, all gradients in a second buffer of
/// the same layout, and non-trainable state (batch-norm running statistics) in a third, with
/// named views ("enc1.conv1.weight"). One flat gradient buffer makes the all-reduce a single
/// contiguous call; the names make checkpoints self-describing.
public final class ParameterStore: @unchecked Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let shape: Shape
        public let offset: Int
        public let initializer: Initializer
        public var count: Int { shape.count }
    }

    public let entries: [Entry]
    public let stateEntries: [Entry]
    public let values: FloatBuffer
    public let grads: FloatBuffer
    public let state: FloatBuffer
    private let index: [String: Int]
    private let stateIndex: [String: Int]

    /// Number of trainable scalars.
    public var count: Int { values.count }

    public init(parameters: [(name: String, spec: TensorSpec)], state: [(name: String, spec: TensorSpec)]) throws {
        func layout(_ list: [(name: String, spec: TensorSpec)]) throws -> ([Entry], [String: Int], Int) {
            var entries: [Entry] = []
            var index: [String: Int] = [:]
            var offset = 0
            for (name, spec) in list {
                guard index[name] == nil else { throw EngineError.mismatch("duplicate tensor name '\(name)'") }
                index[name] = entries.count
                entries.append(Entry(name: name, shape: spec.shape, offset: offset, initializer: spec.initializer))
                offset += spec.shape.count
            }
            return (entries, index, offset)
        }
        let (p, pi, pn) = try layout(parameters)
        let (s, si, sn) = try layout(state)
        entries = p; index = pi; stateEntries = s; stateIndex = si
        values = FloatBuffer(count: pn)
        grads = FloatBuffer(count: pn)
        self.state = FloatBuffer(count: sn)
    }

    public func value(_ name: String) -> Tensor? {
        index[name].map { values.tensor(entries[$0].shape, at: entries[$0].offset) }
    }
    public func grad(_ name: String) -> Tensor? {
        index[name].map { grads.tensor(entries[$0].shape, at: entries[$0].offset) }
    }
    public func stateTensor(_ name: String) -> Tensor? {
        stateIndex[name].map { state.tensor(stateEntries[$0].shape, at: stateEntries[$0].offset) }
    }

    public func zeroGrads() { grads.zero() }

    /// Fills every tensor from its initializer. Each tensor draws from its own stream keyed by
    /// (seed, name), so adding a layer does not change the others' initial values.
    public func initialize(seed: UInt64) {
        for e in entries { Self.fill(values.base + e.offset, e, seed: seed) }
        for e in stateEntries { Self.fill(state.base + e.offset, e, seed: seed) }
    }

    private static func fill(_ p: UnsafeMutablePointer<Float>, _ e: Entry, seed: UInt64) {
        var rng = SplitMix64(seed: CounterRandom.key(seed, stableHash(e.name)))
        let n = e.count
        func uniform(_ b: Float) { for i in 0..<n { p[i] = (2 * rng.uniform() - 1) * b } }
        switch e.initializer {
        case .zeros: p.update(repeating: 0, count: n)
        case .ones: p.update(repeating: 1, count: n)
        case .constant(let v): p.update(repeating: v, count: n)
        case .uniform(let b): uniform(b)
        case .heUniform(let fanIn): uniform((6 / Float(max(fanIn, 1))).squareRoot())
        case .glorotUniform(let i, let o): uniform((6 / Float(max(i + o, 1))).squareRoot())
        case .normal(let std): for i in 0..<n { p[i] = rng.normal() * std }
        }
    }
}

/// FNV-1a over UTF-8: a hash that is the same in every process (Swift's `hashValue` is not).
public func stableHash(_ s: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    return h
}
