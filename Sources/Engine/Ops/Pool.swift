/// Pooling. Shapes (1D, 2D, 3D: one kernel through `Shape.spatial3`):
///   MaxPool, AvgPool   N×C×L → N×C×L'   N×C×H×W → N×C×H'×W'   N×C×D×H×W → N×C×D'×H'×W'
///                      with out = ⌊(in + 2·pad − kernel) / stride⌋ + 1 per spatial dim
///   GlobalAvgPool      N×C×spatial → N×C
/// Padding is symmetric and at most kernel/2, so every window holds at least one real element;
/// padded positions never win a max and never count in an average.

/// A pooling window resolved for one input shape.
public struct PoolGeometry: Sendable, Equatable {
    /// N·C: pooling runs independently on each channel plane.
    public var planes: Int
    public var input: Extent3, output: Extent3
    public var kernel: Extent3, stride: Extent3, pad: Extent3

    /// Resolves `kernel`/`stride`/`padding` (one value, or one per spatial dim) for input `s`
    /// without checking them (see `checked`).
    @inline(__always)
    public init(input s: Shape, kernel: [Int], stride: [Int], padding: [Int]) {
        let r = s.rank - 2
        planes = s[0] * s[1]
        input = Extent3(spatialOf: s)
        self.kernel = Extent3(setting: kernel, rank: r, fill: 1)
        self.stride = Extent3(setting: stride, rank: r, fill: 1)
        pad = Extent3(setting: padding, rank: r, fill: 0)
        @inline(__always) func out(_ i: Int, _ k: Int, _ s: Int, _ p: Int) -> Int { (i + 2 * p - k) / s + 1 }
        output = Extent3(out(input.d, self.kernel.d, self.stride.d, pad.d),
                         out(input.h, self.kernel.h, self.stride.h, pad.h),
                         out(input.w, self.kernel.w, self.stride.w, pad.w))
    }

    /// The geometry for input `s`, or an error naming `layer` when the settings are invalid
    /// or the input does not fit them.
    public static func checked(input s: Shape, kernel: [Int], stride: [Int], padding: [Int], layer: String) throws -> PoolGeometry {
        try Extent3.requireSpatial(s, layer: layer)
        try Extent3.check(kernel, for: s, min: 1, what: "kernel", layer: layer)
        try Extent3.check(stride, for: s, min: 1, what: "stride", layer: layer)
        try Extent3.check(padding, for: s, min: 0, what: "padding", layer: layer)
        let g = PoolGeometry(input: s, kernel: kernel, stride: stride, padding: padding)
        let k = g.kernel, p = g.pad, i = s.spatial3
        guard 2 * p.d <= k.d, 2 * p.h <= k.h, 2 * p.w <= k.w else {
            throw EngineError.parameter(layer: layer, message: "padding \(padding) exceeds half the kernel \(kernel)")
        }
        guard i.d + 2 * p.d >= k.d, i.h + 2 * p.h >= k.h, i.w + 2 * p.w >= k.w else {
            throw EngineError.shape(layer: layer, expected: "spatial size ≥ kernel \(kernel) − 2·padding \(padding)", got: "\(s)")
        }
        guard i.d * i.h * i.w <= Int(Int32.max) else {
            throw EngineError.shape(layer: layer, expected: "a channel plane of < 2^31 elements (Int32 indices)", got: "\(s)")
        }
        return g
    }

    /// `input` with its spatial dims replaced by the pooled ones.
    public func outputShape(_ input: Shape) -> Shape {
        let o = [output.d, output.h, output.w]
        return Shape(Array(input.dims.prefix(2)) + o.suffix(input.rank - 2))
    }

    /// The in-bounds part of output position `o`'s window along one dim: [lo, hi).
    @inline(__always)
    static func range(_ o: Int, _ k: Int, _ s: Int, _ p: Int, _ n: Int) -> (Int, Int) {
        let a = o * s - p
        return (max(a, 0), min(a + k, n))
    }

    /// The max-pooling rule, shared by `MaxPool` and `MaxUnpool`: for each channel plane and
    /// output position, the flat in-plane index (d·H·W + h·W + w) of the window's largest value,
    /// the first in scan order (d, then h, then w) on ties. A NaN wins (and the first NaN
    /// stays), so a diverging network shows NaN instead of hiding it.
    /// Writes `planes · output.count` indices and, if `values` is given, the maxima.
    public func argmax(_ x: UnsafePointer<Float>, indices: UnsafeMutablePointer<Int32>,
                       values: UnsafeMutablePointer<Float>?) {
        let I = input, O = output, K = kernel, S = stride, P = pad
        let hw = I.h * I.w, plane = I.count
        // Non-overlapping 2-wide windows (the U-Net's 2×2 and 2×2×2): eight outputs at a time.
        let paired = K.w == 2 && K.h <= 2 && K.d <= 2 && K == S && P == Extent3(0, 0, 0)
        var j = 0
        for pl in 0..<planes {
            let xp = x + pl * plane
            for od in 0..<O.d {
                let (d0, d1) = Self.range(od, K.d, S.d, P.d, I.d)
                for oh in 0..<O.h {
                    let (h0, h1) = Self.range(oh, K.h, S.h, P.h, I.h)
                    let lanes = paired ? Self.pairedRow(xp, rowStart: d0 * hw + h0 * I.w, width: O.w, w: I.w, hw: hw,
                                                        twoRows: K.h == 2, twoPlanes: K.d == 2,
                                                        indices: indices + j, values: values.map { $0 + j }) : 0
                    j += lanes
                    for ow in lanes..<O.w {
                        let (w0, w1) = Self.range(ow, K.w, S.w, P.w, I.w)
                        var best = xp[d0 * hw + h0 * I.w + w0]
                        var at = d0 * hw + h0 * I.w + w0
                        if best == best {
                            scan: for d in d0..<d1 {
                                for h in h0..<h1 {
                                    let row = d * hw + h * I.w
                                    for w in w0..<w1 {
                                        let v = xp[row + w]
                                        if v > best { best = v; at = row + w }
                                        else if v != v { best = v; at = row + w; break scan }
                                    }
                                }
                            }
                        }
                        indices[j] = Int32(truncatingIfNeeded: at)
                        values?[j] = best
                        j += 1
                    }
                }
            }
        }
    }

    /// The argmax rule for the outputs 0..<8·⌊width/8⌋ of one row of non-overlapping windows
    /// 2 wide (and 2 high, 2 deep if set) starting at input offset `rowStart`, eight at a time:
    /// candidates in scan order, a later one taken only if greater, so ties keep the first.
    /// A group with a NaN anywhere in its windows (seen as a NaN in the windows' sum) goes
    /// back to the caller's scalar loop (returns the outputs done).
    @inline(__always)
    static func pairedRow(_ xp: UnsafePointer<Float>, rowStart: Int, width: Int, w: Int, hw: Int,
                          twoRows: Bool, twoPlanes: Bool,
                          indices: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>?) -> Int {
        typealias F8 = SIMD8<Float>
        typealias I8 = SIMD8<Int32>
        @inline(__always) func pairs(_ p: UnsafePointer<Float>) -> (F8, F8) {
            let a = UnsafeRawPointer(p).loadUnaligned(as: F8.self), b = UnsafeRawPointer(p + 8).loadUnaligned(as: F8.self)
            return (F8(a[0], a[2], a[4], a[6], b[0], b[2], b[4], b[6]), F8(a[1], a[3], a[5], a[7], b[1], b[3], b[5], b[7]))
        }
        let rows = twoRows ? 2 : 1, planes = twoPlanes ? 2 : 1
        let lane = I8(0, 2, 4, 6, 8, 10, 12, 14)
        var o = 0
        while o + 8 <= width {
            let base = rowStart + 2 * o
            var best = F8(), at = I8(), sum = F8()
            for c in 0..<(rows * planes) {
                let off = (c / rows) * hw + (c % rows) * w // scan order: d, then h
                let (e, d) = pairs(xp + base + off)
                sum += e + d
                if c == 0 {
                    best = e
                    at = I8(repeating: Int32(truncatingIfNeeded: base + off)) &+ lane
                } else {
                    let ie = I8(repeating: Int32(truncatingIfNeeded: base + off)) &+ lane
                    let take = e .> best
                    best = best.replacing(with: e, where: take)
                    at = at.replacing(with: ie, where: take)
                }
                let id = I8(repeating: Int32(truncatingIfNeeded: base + off + 1)) &+ lane
                let take = d .> best
                best = best.replacing(with: d, where: take)
                at = at.replacing(with: id, where: take)
            }
            if sum != sum { break } // a NaN: the scalar loop takes over from here
            UnsafeMutableRawPointer(indices + o).storeBytes(of: at, as: I8.self)
            if let values { UnsafeMutableRawPointer(values + o).storeBytes(of: best, as: F8.self) }
            o += 8
        }
        return o
    }
}

/// The settings MaxPool, AvgPool and MaxUnpool share, resolved against an input shape.
public protocol PoolWindow {
    var kernel: [Int] { get }
    var stride: [Int] { get }
    var padding: [Int] { get }
}

extension PoolWindow {
    func geometry(_ s: Shape) -> PoolGeometry {
        PoolGeometry(input: s, kernel: kernel, stride: stride, padding: padding)
    }
    func checkedGeometry(_ s: Shape, layer: String) throws -> PoolGeometry {
        try PoolGeometry.checked(input: s, kernel: kernel, stride: stride, padding: padding, layer: layer)
    }
}

/// Max pooling; keeps each output's argmax (Int32, in `saved`) so backward routes dY there.
public struct MaxPool: Layer, PoolWindow {
    public let kernel: [Int], stride: [Int], padding: [Int]

    /// Per-spatial-dim settings (or one value for all dims); stride defaults to the kernel.
    public init(kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0]) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
    }
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernel: [kernel], stride: [stride ?? kernel], padding: [padding])
    }

    public var kind: String { "maxpool" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        return try checkedGeometry(inputs[0], layer: name).outputShape(inputs[0])
    }

    /// Saved: one Int32 argmax per output element.
    public func plan(_ inputs: [Shape], output: Shape) -> LayerPlan { LayerPlan(savedCount: output.count) }

    // forward: y[j] = max over window j; saved[j] = its in-plane index
    public func forward(_ c: LayerContext, mode: Mode) {
        let g = geometry(c.inputs[0].shape)
        g.argmax(c.inputs[0].data, indices: UnsafeMutableRawPointer(c.saved).assumingMemoryBound(to: Int32.self),
                 values: c.output.data)
    }

    public var writesFreshInputGradients: Bool { true }

    // backward: dx[plane, idx[j]] += dy[j]  (a fresh dx is zeroed first)
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dxT = c.dInputs[0] else { return }
        if c.isFresh(0) { dxT.zero() }
        let g = geometry(c.inputs[0].shape)
        let idx = UnsafeMutableRawPointer(c.saved).assumingMemoryBound(to: Int32.self)
        let dy = c.dOutput.data, dx = dxT.data
        let op = g.output.count, ip = g.input.count
        for pl in 0..<g.planes {
            let dxp = dx + pl * ip, base = pl * op
            for j in base..<(base + op) { dxp[Int(idx[j])] += dy[j] }
        }
    }
}

/// Average pooling with count_include_pad = false: each output divides by the number of real
/// (non-padding) elements in its window, so border outputs are true means of what they see.
public struct AvgPool: Layer, PoolWindow {
    public let kernel: [Int], stride: [Int], padding: [Int]

    /// Per-spatial-dim settings (or one value for all dims); stride defaults to the kernel.
    public init(kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0]) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
    }
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernel: [kernel], stride: [stride ?? kernel], padding: [padding])
    }

    public var kind: String { "avgpool" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        return try checkedGeometry(inputs[0], layer: name).outputShape(inputs[0])
    }

    // forward: y[j] = Σ_window x / |window ∩ input|
    public func forward(_ c: LayerContext, mode: Mode) {
        let g = geometry(c.inputs[0].shape)
        let x = c.inputs[0].data, y = c.output.data
        Self.walk(g) { xo, yo, d0, d1, h0, h1, w0, w1, hw, W in
            var s: Float = 0
            for d in d0..<d1 { for h in h0..<h1 { let r = x + xo + d * hw + h * W; for w in w0..<w1 { s += r[w] } } }
            y[yo] = s / Float((d1 - d0) * (h1 - h0) * (w1 - w0))
        }
    }

    // backward: dx[window j] += dy[j] / |window ∩ input|
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dxT = c.dInputs[0] else { return }
        let g = geometry(c.inputs[0].shape)
        let dx = dxT.data, dy = c.dOutput.data
        Self.walk(g) { xo, yo, d0, d1, h0, h1, w0, w1, hw, W in
            let v = dy[yo] / Float((d1 - d0) * (h1 - h0) * (w1 - w0))
            for d in d0..<d1 { for h in h0..<h1 { let r = dx + xo + d * hw + h * W; for w in w0..<w1 { r[w] += v } } }
        }
    }

    /// Calls `body(planeOffset, outputIndex, d0, d1, h0, h1, w0, w1, H·W, W)` for every output,
    /// with the in-bounds window bounds.
    @inline(__always)
    static func walk(_ g: PoolGeometry, _ body: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) -> Void) {
        let I = g.input, O = g.output, K = g.kernel, S = g.stride, P = g.pad
        let hw = I.h * I.w
        var j = 0
        for pl in 0..<g.planes {
            let xo = pl * I.count
            for od in 0..<O.d {
                let (d0, d1) = PoolGeometry.range(od, K.d, S.d, P.d, I.d)
                for oh in 0..<O.h {
                    let (h0, h1) = PoolGeometry.range(oh, K.h, S.h, P.h, I.h)
                    for ow in 0..<O.w {
                        let (w0, w1) = PoolGeometry.range(ow, K.w, S.w, P.w, I.w)
                        body(xo, j, d0, d1, h0, h1, w0, w1, hw, I.w)
                        j += 1
                    }
                }
            }
        }
    }
}

/// Mean over all spatial positions of each channel: N×C×spatial → N×C (ready for a dense layer).
public struct GlobalAvgPool: Layer {
    public init() {}
    public var kind: String { "global_avgpool" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        try Extent3.requireSpatial(inputs[0], layer: name)
        return Shape(inputs[0][0], inputs[0][1])
    }

    // forward: y[n,c] = mean(x[n,c,...])
    public func forward(_ c: LayerContext, mode: Mode) {
        let x = c.inputs[0].data, y = c.output.data
        let planes = c.output.count, m = c.inputs[0].count / planes
        let inv = 1 / Float(m)
        for p in 0..<planes {
            let xp = x + p * m
            var s: Float = 0
            for i in 0..<m { s += xp[i] }
            y[p] = s * inv
        }
    }

    // backward: dx[n,c,...] += dy[n,c] / |spatial|
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dxT = c.dInputs[0] else { return }
        let dx = dxT.data, dy = c.dOutput.data
        let planes = c.output.count, m = dxT.count / planes
        let inv = 1 / Float(m)
        for p in 0..<planes {
            let v = dy[p] * inv, dxp = dx + p * m
            for i in 0..<m { dxp[i] += v }
        }
    }
}
