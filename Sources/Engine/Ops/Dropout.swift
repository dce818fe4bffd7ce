/// Inverted dropout. Shapes: any → same.
///   training:  element i is dropped when CounterRandom.uniform(key: seed, index: i) < rate,
///              kept elements are scaled by 1/(1 − rate):  y = keep ? x/(1 − rate) : 0
///   inference: y = x
/// `seed` is the pass's training seed as the Executor hands it to this layer (already derived
/// per layer), so the same seed gives the same mask on every rank and run. The index is the
/// element's flat index in the whole N×... tensor.
///
/// Saved: word 0 = 1 if forward applied a mask, then the keep mask as bits (⌈count/32⌉ UInt32
/// words, 1/32 of the activation). Backward reads the saved mask rather than recomputing it,
/// so it needs neither the seed nor the mode to match the forward pass.
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

    public func savedCount(_ inputs: [Shape], output: Shape) -> Int { 1 + (output.count + 31) / 32 }

    public func forward(_ c: LayerContext, mode: Mode) {
        let x = c.inputs[0].data, y = c.output.data, n = c.output.count
        let words = UnsafeMutableRawPointer(c.saved).assumingMemoryBound(to: UInt32.self)
        guard case .training(let seed) = mode, rate > 0 else {
            words[0] = 0
            y.update(from: x, count: n)
            return
        }
        words[0] = 1
        let bits = words + 1
        let scale = 1 / (1 - rate)
        var w = 0, i = 0
        while i < n {
            let end = min(n, i + 32)
            var word: UInt32 = 0
            var bit: UInt32 = 1
            while i < end {
                if CounterRandom.uniform(key: seed, index: i) >= rate {
                    word |= bit
                    y[i] = x[i] * scale
                } else {
                    y[i] = 0
                }
                bit &<<= 1
                i += 1
            }
            bits[w] = word
            w += 1
        }
    }

    // backward: dx += keep ? dy/(1 − rate) : 0   (dx += dy when no mask was applied)
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dxT = c.dInputs[0] else { return }
        let dy = c.dOutput.data, dx = dxT.data, n = c.output.count
        let words = UnsafeMutableRawPointer(c.saved).assumingMemoryBound(to: UInt32.self)
        guard words[0] != 0 else {
            for i in 0..<n { dx[i] += dy[i] }
            return
        }
        let bits = words + 1
        let scale = 1 / (1 - rate)
        for i in 0..<n where bits[i >> 5] & (1 << UInt32(i & 31)) != 0 {
            dx[i] += dy[i] * scale
        }
    }
}
