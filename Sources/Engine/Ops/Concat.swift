/// Concatenation along the channel axis. Shapes:
///   [N×C₁×rest, N×C₂×rest, …] → N×(C₁+C₂+…)×rest   (rank ≥ 2; rest may be empty: dense N×F)
/// Each input's per-sample block is contiguous (channels-first), so a sample of y is the
/// inputs' per-sample blocks one after another.
public struct Concat: Layer {
    public init() {}
    public var kind: String { "concat" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        let all = inputs.map(\.description).joined(separator: ", ")
        guard let first = inputs.first else {
            throw EngineError.shape(layer: name, expected: "at least 1 input", got: "none")
        }
        guard first.rank >= 2 else {
            throw EngineError.shape(layer: name, expected: "inputs of rank ≥ 2 (N×C×…)", got: all)
        }
        var out = first
        for s in inputs.dropFirst() {
            guard s.rank == first.rank, s[0] == first[0], s.dims.dropFirst(2) == first.dims.dropFirst(2) else {
                throw EngineError.shape(layer: name, expected: "inputs equal in all dims but channels (dim 1)", got: all)
            }
            out[1] += s[1]
        }
        return out
    }

    // forward: y[n] = (x₀[n], x₁[n], …)
    public func forward(_ c: LayerContext, mode: Mode) {
        let y = c.output.data, batch = c.output.shape[0], ys = c.output.count / batch
        var off = 0
        for x in c.inputs {
            let xs = x.count / batch
            for n in 0..<batch { (y + n * ys + off).update(from: x.data + n * xs, count: xs) }
            off += xs
        }
    }

    public var writesFreshInputGradients: Bool { true }

    // backward: dxₖ[n] += its slice of dy[n]  (= where marked fresh)
    public func backward(_ c: LayerContext, mode: Mode) {
        let dy = c.dOutput.data, batch = c.output.shape[0], ys = c.output.count / batch
        var off = 0
        for (k, x) in c.inputs.enumerated() {
            let xs = x.count / batch
            if let dx = c.dInputs[k]?.data {
                for n in 0..<batch {
                    let d = dx + n * xs, g = dy + n * ys + off
                    if c.isFresh(k) {
                        d.update(from: g, count: xs)
                    } else {
                        for i in 0..<xs { d[i] += g[i] }
                    }
                }
            }
            off += xs
        }
    }
}
