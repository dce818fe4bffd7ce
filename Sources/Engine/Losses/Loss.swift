/// Shared pieces of the losses.
///
/// Every loss has two entry points:
///   compute(...) -> Float        the mean loss; WRITES (overwrites) d(mean)/d(prediction)
///   computeSum(...) -> LossSum   the weighted sum and its denominator; WRITES d(sum)/d(prediction)
/// `computeSum` is for data parallelism with masks: ranks count different numbers of pixels,
/// so the exact global mean is Σ sums / Σ weights (all-reduced), and since backward is linear
/// the parameter gradients are scaled by 1/Σ weights after the gradient all-reduce.
/// The gradient argument may be nil (validation: loss only).
///
/// Masks (optional, Float): 1 = the value counts, 0 = NODATA. A value counts iff mask > 0
/// (NaN does not count). Uncounted values are skipped, never multiplied by 0, so garbage or NaN
/// predictions/targets under NODATA cannot leak into the loss; their gradient is written as 0.
public struct LossSum: Sendable, Equatable {
    /// Σ of the (weighted) per-value losses over counted values.
    public var sum: Double
    /// The mean's denominator: counted values, or Σ of their class weights.
    public var weight: Double
    public init(sum: Double, weight: Double) { self.sum = sum; self.weight = weight }
    /// sum / weight, or 0 when nothing counted.
    public var mean: Float { weight > 0 ? Float(sum / weight) : 0 }
}

/// Integer class labels, one per pixel: N×spatial (or N×1×spatial; N for N×C logits).
/// A view like `Tensor`, keeping its owner (if any) alive.
public struct LabelTensor: @unchecked Sendable {
    public let shape: Shape
    public let data: UnsafeMutablePointer<Int32>
    public let owner: AnyObject?
    public init(_ shape: Shape, _ data: UnsafeMutablePointer<Int32>, owner: AnyObject? = nil) {
        self.shape = shape
        self.data = data
        self.owner = owner
    }
    public var count: Int { shape.count }
    public var array: [Int32] { Array(UnsafeBufferPointer(start: data, count: count)) }
}

/// Labels that own their storage (loaders, tests).
public final class HostLabelTensor: @unchecked Sendable {
    /// Owns the memory; `labels` views it and keeps it alive.
    final class Storage {
        let base: UnsafeMutablePointer<Int32>
        init(count: Int) {
            base = .allocate(capacity: max(count, 1))
            base.initialize(repeating: 0, count: max(count, 1))
        }
        deinit { base.deallocate() }
    }
    public let labels: LabelTensor
    public init(_ shape: Shape) {
        let storage = Storage(count: shape.count)
        labels = LabelTensor(shape, storage.base, owner: storage)
    }
    public convenience init(_ shape: Shape, _ values: [Int32]) {
        precondition(values.count == shape.count, "\(values.count) labels for shape \(shape)")
        self.init(shape)
        labels.data.update(from: values, count: values.count)
    }
    public var shape: Shape { labels.shape }
    public var data: UnsafeMutablePointer<Int32> { labels.data }
}

/// How a mask lines up with a prediction N×C×spatial.
enum MaskLayout {
    case none
    /// N×spatial or N×1×spatial: one value per pixel, broadcast over channels.
    case pixel
    /// Same shape as the prediction: one value per element.
    case element
}

/// The per-pixel shapes of an N×C×spatial tensor: N×spatial and N×1×spatial.
func pixelShapes(of s: Shape) -> [Shape] {
    [Shape([s[0]] + s.spatial), Shape([s[0], 1] + s.spatial)]
}

/// Throws unless `got` is a per-pixel shape of `of`.
func requirePixelShape(_ got: Shape, of s: Shape, loss: String, what: String) throws {
    let ok = pixelShapes(of: s)
    guard ok.contains(got) else {
        throw EngineError.shape(layer: loss, expected: "\(what) \(ok[0]) or \(ok[1]) for prediction \(s)", got: "\(got)")
    }
}

/// Throws unless `got` equals `want`.
func requireSameShape(_ got: Shape, _ want: Shape, loss: String, what: String) throws {
    guard got == want else {
        throw EngineError.shape(layer: loss, expected: "\(what) \(want) (as the prediction)", got: "\(got)")
    }
}

/// Throws unless the prediction is N×C or N×C×spatial with positive sizes.
func requirePrediction(_ s: Shape, loss: String) throws {
    guard s.rank >= 2, s.dims.allSatisfy({ $0 > 0 }) else {
        throw EngineError.shape(layer: loss, expected: "prediction N×C or N×C×spatial with positive sizes", got: "\(s)")
    }
}

/// Validates a mask: per pixel, or (if `elementwise`) per element.
func maskLayout(_ mask: Tensor?, prediction s: Shape, elementwise: Bool, loss: String) throws -> MaskLayout {
    guard let mask else { return .none }
    if elementwise && mask.shape == s { return .element }
    let ok = pixelShapes(of: s)
    guard ok.contains(mask.shape) else {
        let alt = elementwise ? ", \(ok[1]) or \(s)" : " or \(ok[1])"
        throw EngineError.shape(layer: loss, expected: "mask \(ok[0])\(alt) for prediction \(s)", got: "\(mask.shape)")
    }
    return .pixel
}

/// Turns d(sum) in `gradient` into d(mean): multiplies by 1/weight (zeroes when nothing counted).
func scaleToMean(_ r: LossSum, _ gradient: Tensor?) -> Float {
    if let g = gradient {
        if r.weight > 0 {
            let k = Float(1 / r.weight)
            Lanes.each(g.count) { i, n in Lanes.put(Lanes.load(g.data + i, n) * k, g.data + i, n, add: false) }
        } else {
            g.zero()
        }
    }
    return r.mean
}

/// Shared loop of the elementwise losses (BCE, MSE, L1): prediction and target N×C×spatial,
/// mask per pixel or per element; `f(p, t)` gives (loss, dloss/dp) of one value. Writes
/// d(sum)/dp into `gradient` and returns (Σ loss, counted values).
@inline(__always)
func elementwiseLossSum(_ loss: String, prediction: Tensor, target: Tensor, mask: Tensor?, gradient: Tensor?,
                        _ f: (Float, Float) -> (Float, Float)) throws -> LossSum {
    let s = prediction.shape
    try requirePrediction(s, loss: loss)
    try requireSameShape(target.shape, s, loss: loss, what: "target")
    if let g = gradient { try requireSameShape(g.shape, s, loss: loss, what: "gradient") }
    let layout = try maskLayout(mask, prediction: s, elementwise: true, loss: loss)
    let n = s.batch, ch = s.channels, sp = s.count / (n * ch)
    let p = prediction.data, t = target.data, g = gradient?.data, m = mask?.data
    var sum = 0.0, counted = 0
    for b in 0..<n {
        for k in 0..<ch {
            let base = (b * ch + k) * sp
            for i in 0..<sp {
                let j = base + i
                let keep: Bool
                switch layout {
                case .none: keep = true
                case .pixel: keep = m![b * sp + i] > 0
                case .element: keep = m![j] > 0
                }
                if keep {
                    let (l, d) = f(p[j], t[j])
                    sum += Double(l)
                    counted += 1
                    g?[j] = d
                } else {
                    g?[j] = 0
                }
            }
        }
    }
    return LossSum(sum: sum, weight: Double(counted))
}
