/// Spatial cropping and zero padding (1D, 2D, 3D). Shapes:
///   Crop  N×C×spatial → N×C×(spatial − begin − end)   or N×C×size (centre crop)
///   Pad   N×C×spatial → N×C×(spatial + begin + end)
/// Both move a small box (the cropped / unpadded tensor) to or from an offset inside a larger
/// one, row by row (`BoxRows`).

/// Crops spatial borders: `begin`/`end` elements removed per spatial dim, or a centre crop to
/// `size` (when the excess is odd, the extra element goes from the end, as in U-Net crops).
public struct Crop: Layer {
    public enum Amount: Sendable, Equatable {
        /// Elements removed at the start and end of each spatial dim (one value or one per dim).
        case edges(begin: [Int], end: [Int])
        /// Output spatial size (one value or one per dim), taken from the centre.
        case center(size: [Int])
    }
    public let amount: Amount

    public init(begin: [Int], end: [Int]) { amount = .edges(begin: begin, end: end) }
    public init(centerTo size: [Int]) { amount = .center(size: size) }

    public var kind: String { "crop" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        let s = inputs[0]
        try Extent3.requireSpatial(s, layer: name)
        let r = s.rank - 2, sp = s.spatial
        var out = s
        switch amount {
        case let .edges(begin, end):
            try Extent3.check(begin, for: s, min: 0, what: "crop begin", layer: name)
            try Extent3.check(end, for: s, min: 0, what: "crop end", layer: name)
            for k in 0..<r {
                let b = begin.count == 1 ? begin[0] : begin[k], e = end.count == 1 ? end[0] : end[k]
                guard b + e < sp[k] else {
                    throw EngineError.shape(layer: name, expected: "spatial dims > begin \(begin) + end \(end)", got: "\(s)")
                }
                out[2 + k] = sp[k] - b - e
            }
        case let .center(size):
            try Extent3.check(size, for: s, min: 1, what: "crop size", layer: name)
            for k in 0..<r {
                let z = size.count == 1 ? size[0] : size[k]
                guard z <= sp[k] else {
                    throw EngineError.shape(layer: name, expected: "spatial dims ≥ crop size \(size)", got: "\(s)")
                }
                out[2 + k] = z
            }
        }
        return out
    }

    /// Offset of the kept box in the input.
    func offset(_ input: Shape, _ output: Shape) -> Extent3 {
        switch amount {
        case let .edges(begin, _): return Extent3(setting: begin, rank: input.rank - 2, fill: 0)
        case .center:
            let i = Extent3(spatialOf: input), o = Extent3(spatialOf: output)
            return Extent3((i.d - o.d) / 2, (i.h - o.h) / 2, (i.w - o.w) / 2)
        }
    }

    // forward: y = x[box]
    public func forward(_ c: LayerContext, mode: Mode) {
        let x = c.inputs[0].data, y = c.output.data
        BoxRows(big: c.inputs[0].shape, small: c.output.shape, at: offset(c.inputs[0].shape, c.output.shape))
            .forEach { b, s, n in (y + s).update(from: x + b, count: n) }
    }

    // backward: dx[box] += dy
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dx = c.dInputs[0]?.data else { return }
        let dy = c.dOutput.data
        BoxRows(big: c.inputs[0].shape, small: c.output.shape, at: offset(c.inputs[0].shape, c.output.shape))
            .forEach { b, s, n in for i in 0..<n { dx[b + i] += dy[s + i] } }
    }
}

/// Zero padding: `begin`/`end` zeros added per spatial dim (one value or one per dim).
public struct Pad: Layer {
    public let begin: [Int], end: [Int]

    public init(begin: [Int], end: [Int]) { self.begin = begin; self.end = end }
    /// The same amount on both sides of every spatial dim.
    public init(_ amount: Int) { self.init(begin: [amount], end: [amount]) }

    public var kind: String { "pad" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        let s = inputs[0]
        try Extent3.requireSpatial(s, layer: name)
        let r = s.rank - 2
        try Extent3.check(begin, for: s, min: 0, what: "pad begin", layer: name)
        try Extent3.check(end, for: s, min: 0, what: "pad end", layer: name)
        var out = s
        for k in 0..<r { out[2 + k] += (begin.count == 1 ? begin[0] : begin[k]) + (end.count == 1 ? end[0] : end[k]) }
        return out
    }

    // forward: y = 0; y[box] = x
    public func forward(_ c: LayerContext, mode: Mode) {
        let x = c.inputs[0].data, y = c.output.data
        c.output.zero()
        BoxRows(big: c.output.shape, small: c.inputs[0].shape, at: Extent3(setting: begin, rank: c.output.shape.rank - 2, fill: 0))
            .forEach { b, s, n in (y + b).update(from: x + s, count: n) }
    }

    // backward: dx += dy[box]
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dx = c.dInputs[0]?.data else { return }
        let dy = c.dOutput.data
        BoxRows(big: c.output.shape, small: c.inputs[0].shape, at: Extent3(setting: begin, rank: c.output.shape.rank - 2, fill: 0))
            .forEach { b, s, n in for i in 0..<n { dx[s + i] += dy[b + i] } }
    }
}

/// A small N×C×spatial box placed at a spatial offset inside a big one of equal N and C,
/// walked row by row.
struct BoxRows {
    let planes: Int, big: Extent3, small: Extent3, at: Extent3

    @inline(__always)
    init(big b: Shape, small s: Shape, at o: Extent3) {
        planes = s[0] * s[1]; big = Extent3(spatialOf: b); small = Extent3(spatialOf: s); at = o
    }

    /// Calls `body(bigOffset, smallOffset, rowLength)` for every row of the small box.
    @inline(__always)
    func forEach(_ body: (Int, Int, Int) -> Void) {
        var s = 0
        for p in 0..<planes {
            for d in 0..<small.d {
                for h in 0..<small.h {
                    body(((p * big.d + at.d + d) * big.h + at.h + h) * big.w + at.w, s, small.w)
                    s += small.w
                }
            }
        }
    }
}
