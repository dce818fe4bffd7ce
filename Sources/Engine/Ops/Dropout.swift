/// Inverted dropout. Shapes: any → same.
///   training:  element i is kept when CounterRandom.uniform(key: seed, index: i) ≥ rate,
///              y = x·keep/(1 − rate)   (keep ∈ {0, 1}; P(drop) = rate)
///   inference: y = x
/// `seed` is the pass's training seed as the Executor hands it to this layer (already derived
/// per layer), so the same seed gives the same mask on every rank and run. The index is the
/// element's flat index in the whole N×... tensor.
///
/// Forward saves [flag, seed] (4 floats) and the mask as floats m = keep/(1 − rate) (one per
/// element), so backward follows the forward pass whatever mode it is given and is one
/// vectorised multiply: recomputing the mask in backward cost a hash per element (two
/// SplitMix64 mixes, scalar 64-bit multiplies), about as much as the forward (docs/engine.md). (A bit mask was measured slower: packing bits defeats vectorisation.)
/// Multiplying by the mask (instead of selecting) keeps the loops branch-free; as in PyTorch a
/// non-finite x still gives NaN where dropped.
public struct Dropout: Layer {
    public let rate: Float

    public init(_ rate: Float) { self.rate = rate }
    public init(rate: Float) { self.rate = rate }

    public var kind: String { "dropout" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        guard rate >= 0, rate < 1 else {
            throw EngineError.parameter(layer: name, message: "dropout rate \(rate) outside [0, 1)")
        }
        return inputs[0]
    }

    // saved: word 0 = 1 if a mask was applied; bytes 8..<16 = the seed (UInt64, aligned);
    // from float 4 on, the mask (one float per element)
    public func plan(_ inputs: [Shape], output: Shape) -> LayerPlan { LayerPlan(savedCount: 4 + output.count) }
    public var writesFreshInputGradients: Bool { true }

    public func forward(_ c: LayerContext, mode: Mode) {
        let x = c.inputs[0].data, y = c.output.data, n = c.output.count
        let raw = UnsafeMutableRawPointer(c.saved)
        guard case .training(let seed) = mode, rate > 0 else {
            raw.storeBytes(of: 0, as: UInt32.self)
            y.update(from: x, count: n)
            return
        }
        raw.storeBytes(of: 1, as: UInt32.self)
        raw.storeBytes(of: seed, toByteOffset: 8, as: UInt64.self)
        let scale = 1 / (1 - rate), r = rate, mask = c.saved + 4
        for i in 0..<n {
            let keep: Float = CounterRandom.uniform(key: seed, index: i) >= r ? 1 : 0
            let m = scale * keep
            mask[i] = m
            y[i] = x[i] * m
        }
    }

    // backward: dx += dy·m with the forward's mask   (dx += dy when none was applied;
    // dx = … where the executor marks it fresh)
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dxT = c.dInputs[0] else { return }
        let dy = c.dOutput.data, dx = dxT.data, n = c.output.count
        let add = !c.isFresh(0)
        guard UnsafeRawPointer(c.saved).load(as: UInt32.self) != 0 else {
            Lanes.each(n) { i, k in Lanes.put(Lanes.load(dy + i, k), dx + i, k, add: add) }
            return
        }
        let mask = c.saved + 4
        Lanes.each(n) { i, k in Lanes.put(Lanes.load(dy + i, k) * Lanes.load(mask + i, k), dx + i, k, add: add) }
    }
}
