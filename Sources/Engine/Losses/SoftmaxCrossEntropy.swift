/// Softmax cross-entropy over the channel axis. Shapes: logits N×C×spatial (or N×C);
/// target `.hard` labels N×spatial (Int32) or `.soft` proportions N×C×spatial; mask N×spatial
/// (or N×1×spatial); class weights [C]; gradient N×C×spatial.
///
/// Per counted pixel p, with log-softmax ℓ_c = z_c − logsumexp(z) (max-shifted, stable):
///   hard label y:  loss_p = −w_y·ℓ_y,             weight_p = w_y
///                  dloss_p/dz_c = w_y·(softmax_c − [c = y])
///   soft target t: loss_p = −Σ_c w_c·t_c·ℓ_c,     weight_p = Σ_c w_c·t_c
///                  dloss_p/dz_c = softmax_c·Σ_k w_k·t_k − w_c·t_c
///   mean = Σ_p loss_p / Σ_p weight_p
/// Without class weights w ≡ 1, so for hard labels the mean is over counted pixels; with them
/// it is PyTorch's weighted mean (divide by the summed weights of counted pixels).
/// Soft-target convention: the denominator is Σ_p Σ_c w_c·t_c, which is the count of counted
/// pixels when targets sum to 1 and no class weights are given, and equals the hard-label rule
/// for one-hot targets, so hard and one-hot soft targets give the same loss. (PyTorch divides
/// soft targets by the pixel count even with weights; we prefer the consistency.) Targets that
/// do not sum to 1 weigh their pixel by their sum; they should be ≥ 0.
///
/// A pixel counts iff the mask (if any) is > 0 and, for hard labels, the label is ≥ 0 and not
/// `ignoreIndex`. Uncounted pixels add nothing to loss, gradient (written 0) or denominator.
/// If nothing counts (or all counted weight is 0) the loss is 0 and the gradient 0.
/// A counted label ≥ C throws.
public struct SoftmaxCrossEntropy: Sendable {
    public static let kind = "softmax_cross_entropy"

    /// Per-class weights [C] (≥ 0), or nil for all 1.
    public var classWeights: [Float]?
    /// A label value that counts as masked (besides any negative label).
    public var ignoreIndex: Int32?

    public init(classWeights: [Float]? = nil, ignoreIndex: Int32? = nil) {
        self.classWeights = classWeights
        self.ignoreIndex = ignoreIndex
    }

    /// The mean loss; writes d(mean)/d(logits) into `gradient` (overwriting it).
    public func compute(logits: Tensor, target: ClassTarget, mask: Tensor? = nil, gradient: Tensor? = nil) throws -> Float {
        if case .hard = target {
            // The denominator is known before the pass: the gradient is written scaled.
            return try sum(logits: logits, target: target, mask: mask, gradient: gradient, toMean: true).mean
        }
        return scaleToMean(try computeSum(logits: logits, target: target, mask: mask, gradient: gradient), gradient)
    }

    /// The weighted loss sum and its denominator; writes d(sum)/d(logits) into `gradient`.
    public func computeSum(logits: Tensor, target: ClassTarget, mask: Tensor? = nil, gradient: Tensor? = nil) throws -> LossSum {
        try sum(logits: logits, target: target, mask: mask, gradient: gradient, toMean: false)
    }

    /// `toMean` (hard labels only): the gradient written is d(mean), not d(sum).
    private func sum(logits: Tensor, target: ClassTarget, mask: Tensor?, gradient: Tensor?, toMean: Bool) throws -> LossSum {
        let name = Self.kind
        let s = logits.shape
        try requirePrediction(s, loss: name)
        if let g = gradient { try requireSameShape(g.shape, s, loss: name, what: "gradient") }
        _ = try maskLayout(mask, prediction: s, elementwise: false, loss: name)
        let n = s.batch, ch = s.channels, sp = s.count / (n * ch)
        if let w = classWeights {
            guard w.count == ch else {
                throw EngineError.shape(layer: name, expected: "class weights [\(ch)] for logits \(s)", got: "[\(w.count)]")
            }
            if let bad = w.firstIndex(where: { !($0 >= 0 && $0.isFinite) }) {
                throw EngineError.parameter(layer: name, message: "class weight \(bad) is \(w[bad]), must be finite and ≥ 0")
            }
        }
        let m = mask?.data
        switch target {
        case .hard(let labels):
            try requirePixelShape(labels.shape, of: s, loss: name, what: "labels")
            let ignore = ignoreIndex ?? -1
            // Validate before writing anything; the denominator on the way (summed in the order
            // `hard` sums it, so both agree exactly).
            var weight = 0.0
            for p in 0..<n * sp {
                let y = labels.data[p]
                if y >= 0 && y != ignore && (m.map { $0[p] > 0 } ?? true) {
                    if Int(y) >= ch { throw EngineError.parameter(layer: name, message: "label \(y) at pixel \(p) outside 0..<\(ch)") }
                    weight += Double(classWeights?[Int(y)] ?? 1)
                }
            }
            let scale: Float = toMean && weight > 0 ? Float(1 / weight) : 1
            return hard(logits: logits, labels: labels.data, ignore: ignore, mask: m, gradient: gradient?.data,
                        gradScale: scale, n: n, ch: ch, sp: sp)
        case .soft(let t):
            try requireSameShape(t.shape, s, loss: name, what: "soft target")
            return soft(logits: logits, target: t.data, mask: m, gradient: gradient?.data, n: n, ch: ch, sp: sp)
        }
    }

    /// Blocks of up to 256 pixels of one image, eight lanes along the contiguous spatial axis:
    /// each pass over a block runs class by class, so one class row streams at a time (the C
    /// rows are sp floats apart — with sp a large power of two, touching all of them per
    /// pixel thrashes the cache sets). Per pixel the operations are those of one pixel of a
    /// plain loop, with `Lanes.exp`. The gradient is d(sum)·gradScale (1/weight writes d(mean)
    /// in the same pass).
    private func hard(logits: Tensor, labels: UnsafePointer<Int32>, ignore: Int32, mask: UnsafePointer<Float>?,
                      gradient g: UnsafeMutablePointer<Float>?, gradScale: Float, n: Int, ch: Int, sp: Int) -> LossSum {
        typealias F8 = SIMD8<Float>
        let block = 256
        var sum = 0.0, weight = 0.0
        classWeights.withOptionalBuffer { w in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * block) { scratch in
                let wyb = scratch.baseAddress!, mxb = wyb + block, seb = mxb + block
                for b in 0..<n {
                    let zb = logits.data + b * ch * sp, gb = g.map { $0 + b * ch * sp }
                    var i0 = 0
                    while i0 < sp {
                        let len = min(block, sp - i0), z0 = zb + i0, g0 = gb.map { $0 + i0 }
                        // Label weights (0: not counted).
                        var any = false
                        for j in 0..<len {
                            let p = b * sp + i0 + j, y = labels[p]
                            let counted = y >= 0 && y != ignore && (mask.map { $0[p] > 0 } ?? true)
                            wyb[j] = counted ? (w?[Int(y)] ?? 1) : 0
                            any = any || wyb[j] != 0
                        }
                        guard any else {
                            if let g0 { for c in 0..<ch { Runs.zero(g0 + c * sp, len) } }
                            i0 += len
                            continue
                        }
                        // Max over classes, then Σ exp(z − max) with exp(z − max) kept in g.
                        Lanes.each(len) { i, k in Lanes.put(Lanes.load(z0 + i, k), mxb + i, k, add: false) }
                        for c in 1..<ch {
                            Lanes.each(len) { i, k in
                                let z = Lanes.load(z0 + c * sp + i, k), m = Lanes.load(mxb + i, k)
                                Lanes.put(m.replacing(with: z, where: z .> m), mxb + i, k, add: false)
                            }
                        }
                        Runs.zero(seb, len)
                        for c in 0..<ch {
                            Lanes.each(len) { i, k in
                                let e = Lanes.exp(Lanes.load(z0 + c * sp + i, k) - Lanes.load(mxb + i, k))
                                Lanes.put(e, seb + i, k, add: true)
                                if let g0 { Lanes.put(e, g0 + c * sp + i, k, add: false) }
                            }
                        }
                        // −ℓ_y = (max − z_y) + log Σ exp(z − max): no large terms cancel
                        for j in 0..<len where wyb[j] != 0 {
                            let y = Int(labels[b * sp + i0 + j])
                            sum += Double(wyb[j]) * Double((mxb[j] - z0[y * sp + j]) + _logf(seb[j]))
                            weight += Double(wyb[j])
                        }
                        if let g0 {
                            // scale = wy·gradScale/Σ (0 where not counted); g = e·scale, g[y] −= wy·gradScale
                            Lanes.each(len) { i, k in
                                let wy = Lanes.load(wyb + i, k)
                                let sc = Lanes.mask(wy * gradScale / Lanes.load(seb + i, k), wy .!= 0)
                                Lanes.put(sc, seb + i, k, add: false)
                            }
                            for c in 0..<ch {
                                Lanes.each(len) { i, k in
                                    let at = g0 + c * sp + i, sc = Lanes.load(seb + i, k)
                                    Lanes.put(Lanes.mask(Lanes.load(at, k) * sc, Lanes.load(wyb + i, k) .!= 0), at, k, add: false)
                                }
                            }
                            for j in 0..<len where wyb[j] != 0 {
                                g0[Int(labels[b * sp + i0 + j]) * sp + j] -= wyb[j] * gradScale
                            }
                        }
                        i0 += len
                    }
                }
            }
        }
        return LossSum(sum: sum, weight: weight)
    }

    private func soft(logits: Tensor, target t: UnsafePointer<Float>, mask: UnsafePointer<Float>?,
                      gradient g: UnsafeMutablePointer<Float>?, n: Int, ch: Int, sp: Int) -> LossSum {
        var sum = 0.0, weight = 0.0
        classWeights.withOptionalBuffer { w in
            for b in 0..<n {
                for i in 0..<sp {
                    let p = b * sp + i
                    let off = b * ch * sp + i
                    if let mask, !(mask[p] > 0) {
                        if let g { for c in 0..<ch { g[off + c * sp] = 0 } }
                        continue
                    }
                    let z = logits.data + off, tp = t + off
                    var mx = z[0]
                    for c in 1..<ch { mx = max(mx, z[c * sp]) }
                    var se: Float = 0
                    for c in 0..<ch {
                        let e = _expf(z[c * sp] - mx)
                        se += e
                        g?[off + c * sp] = e
                    }
                    let ls = _logf(se)
                    var a: Float = 0, l: Float = 0
                    for c in 0..<ch {
                        let ac = (w?[c] ?? 1) * tp[c * sp]
                        a += ac
                        l += ac * ((mx - z[c * sp]) + ls)
                    }
                    sum += Double(l)
                    weight += Double(a)
                    if let g {
                        let k = a / se
                        for c in 0..<ch { g[off + c * sp] = g[off + c * sp] * k - (w?[c] ?? 1) * tp[c * sp] }
                    }
                }
            }
        }
        return LossSum(sum: sum, weight: weight)
    }
}

/// What a classification loss compares the logits with.
public enum ClassTarget {
    /// One class index per pixel (N×spatial, Int32); negative = masked.
    case hard(LabelTensor)
    /// Per-pixel class proportions ("multi-hot"), same shape as the logits.
    case soft(Tensor)
}

extension Optional where Wrapped == [Float] {
    /// Runs `body` with the array's buffer, or nil.
    @inline(__always)
    func withOptionalBuffer<R>(_ body: (UnsafeBufferPointer<Float>?) -> R) -> R {
        switch self {
        case .some(let a): return a.withUnsafeBufferPointer { body($0) }
        case .none: return body(nil)
        }
    }
}
