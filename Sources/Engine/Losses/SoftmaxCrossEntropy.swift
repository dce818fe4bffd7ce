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
        scaleToMean(try computeSum(logits: logits, target: target, mask: mask, gradient: gradient), gradient)
    }

    /// The weighted loss sum and its denominator; writes d(sum)/d(logits) into `gradient`.
    public func computeSum(logits: Tensor, target: ClassTarget, mask: Tensor? = nil, gradient: Tensor? = nil) throws -> LossSum {
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
            // Validate before writing anything.
            for p in 0..<n * sp {
                let y = labels.data[p]
                if y >= 0 && y != ignore && (m.map { $0[p] > 0 } ?? true) && Int(y) >= ch {
                    throw EngineError.parameter(layer: name, message: "label \(y) at pixel \(p) outside 0..<\(ch)")
                }
            }
            return hard(logits: logits, labels: labels.data, ignore: ignore, mask: m, gradient: gradient?.data, n: n, ch: ch, sp: sp)
        case .soft(let t):
            try requireSameShape(t.shape, s, loss: name, what: "soft target")
            return soft(logits: logits, target: t.data, mask: m, gradient: gradient?.data, n: n, ch: ch, sp: sp)
        }
    }

    /// Eight pixels at a time (lanes along the contiguous spatial axis; classes are sp apart):
    /// per lane the same operations as one pixel of the plain loop, with `Lanes.exp`.
    private func hard(logits: Tensor, labels: UnsafePointer<Int32>, ignore: Int32, mask: UnsafePointer<Float>?,
                      gradient g: UnsafeMutablePointer<Float>?, n: Int, ch: Int, sp: Int) -> LossSum {
        typealias F8 = SIMD8<Float>
        var sum = 0.0, weight = 0.0
        classWeights.withOptionalBuffer { w in
            for b in 0..<n {
                let zb = logits.data + b * ch * sp, gb = g.map { $0 + b * ch * sp }
                Lanes.each(sp) { i, k in
                    // Per-lane label weight (0: not counted).
                    var wy = F8(), ys = SIMD8<Int32>()
                    for j in 0..<k {
                        let p = b * sp + i + j, y = labels[p]
                        ys[j] = y
                        if y >= 0 && y != ignore && (mask.map { $0[p] > 0 } ?? true) { wy[j] = w?[Int(y)] ?? 1 }
                    }
                    guard wy != F8() else {
                        if let gb { for c in 0..<ch { Lanes.put(F8(), gb + c * sp + i, k, add: false) } }
                        return
                    }
                    var mx = Lanes.load(zb + i, k)
                    for c in 1..<ch {
                        let z = Lanes.load(zb + c * sp + i, k)
                        mx = mx.replacing(with: z, where: z .> mx)
                    }
                    var se = F8()
                    for c in 0..<ch {
                        let e = Lanes.exp(Lanes.load(zb + c * sp + i, k) - mx)
                        se += e
                        if let gb { Lanes.put(e, gb + c * sp + i, k, add: false) }
                    }
                    // −ℓ_y = (max − z_y) + log Σ exp(z − max): no large terms cancel
                    for j in 0..<k where wy[j] != 0 {
                        let zy = zb[Int(ys[j]) * sp + i + j]
                        sum += Double(wy[j]) * Double((mx[j] - zy) + _logf(se[j]))
                        weight += Double(wy[j])
                    }
                    if let gb {
                        let scale = (wy / se).replacing(with: 0, where: wy .== 0)
                        let counted = wy .!= 0
                        for c in 0..<ch {
                            let at = gb + c * sp + i
                            Lanes.put((Lanes.load(at, k) * scale).replacing(with: 0, where: .!counted), at, k, add: false)
                        }
                        for j in 0..<k where wy[j] != 0 { gb[Int(ys[j]) * sp + i + j] -= wy[j] }
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
