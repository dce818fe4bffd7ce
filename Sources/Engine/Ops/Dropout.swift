/// Inverted dropout. Shapes: any → same.
///   training:  element i is kept when CounterRandom.uniform(key: seed, index: i) ≥ rate,
///              y = x·keep/(1 − rate)   (keep ∈ {0, 1}; P(drop) = rate)
///   inference: y = x
/// `seed` is the pass's training seed as the Executor hands it to this layer (already derived
/// per layer), so the same seed gives the same mask on every rank and run. The index is the
/// element's flat index in the whole N×... tensor.
///
/// The mask is not stored: forward saves only [flag, seed] (4 floats) and backward recomputes
/// the mask from the saved seed, so backward follows the forward pass whatever mode it is
/// given. Recomputing costs one hash per element; storing a bit mask was measured slower
/// (packing bits defeats vectorisation of the forward loop) besides costing memory.
/// Multiplying by keep (instead of selecting) keeps the loops branch-free; as in PyTorch a
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

    // saved: word 0 = 1 if a mask was applied; bytes 8..<16 = the seed (UInt64, aligned)
    public func savedCount(_ inputs: [Shape], output: Shape) -> Int { 4 }

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
        let scale = 1 / (1 - rate), r = rate
        for i in 0..<n {
            let keep: Float = CounterRandom.uniform(key: seed, index: i) >= r ? 1 : 0
            y[i] = x[i] * (scale * keep)
        }
    }

    // backward: dx += dy·keep/(1 − rate) with the forward's mask   (dx += dy when none was applied)
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dxT = c.dInputs[0] else { return }
        let dy = c.dOutput.data, dx = dxT.data, n = c.output.count
        let raw = UnsafeRawPointer(c.saved)
        guard raw.load(as: UInt32.self) != 0 else {
            for i in 0..<n { dx[i] += dy[i] }
            return
        }
        let seed = raw.load(fromByteOffset: 8, as: UInt64.self)
        let scale = 1 / (1 - rate), r = rate
        for i in 0..<n {
            let keep: Float = CounterRandom.uniform(key: seed, index: i) >= r ? 1 : 0
            dx[i] += dy[i] * (scale * keep)
        }
    }
}
