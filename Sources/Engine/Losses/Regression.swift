/// Per-pixel regression losses. Shapes: prediction N×C×spatial (or N×C); target same shape;
/// mask N×spatial / N×1×spatial (one value per pixel, applied to all C channels of that pixel)
/// or the prediction's shape (per element, e.g. per-band NODATA).
/// Mean over counted elements (counted pixels × C), as PyTorch's reduction = "mean".

/// A regression loss computed element by element: `element` gives one element's loss and its
/// derivative by the prediction; `compute` and `computeSum` are shared.
public protocol RegressionLoss: Sendable {
    static var kind: String { get }
    static func element(_ p: Float, _ t: Float) -> (Float, Float)
}

extension RegressionLoss {
    /// The mean loss; writes d(mean)/d(prediction) into `gradient` (overwriting it).
    public func compute(prediction: Tensor, target: Tensor, mask: Tensor? = nil, gradient: Tensor? = nil) throws -> Float {
        scaleToMean(try computeSum(prediction: prediction, target: target, mask: mask, gradient: gradient), gradient)
    }

    /// The loss sum and the counted elements; writes d(sum)/d(prediction) into `gradient`.
    public func computeSum(prediction: Tensor, target: Tensor, mask: Tensor? = nil, gradient: Tensor? = nil) throws -> LossSum {
        try elementwiseLossSum(Self.kind, prediction: prediction, target: target, mask: mask, gradient: gradient, Self.element)
    }
}

/// Mean squared error: loss = (p − t)², dloss/dp = 2·(p − t).
public struct MeanSquaredError: RegressionLoss {
    public static let kind = "mse"

    public init() {}

    public static func element(_ p: Float, _ t: Float) -> (Float, Float) {
        let d = p - t
        return (d * d, 2 * d)
    }
}

/// Mean absolute error: loss = |p − t|, dloss/dp = sign(p − t) (0 at p = t, as PyTorch).
public struct L1Loss: RegressionLoss {
    public static let kind = "l1"

    public init() {}

    public static func element(_ p: Float, _ t: Float) -> (Float, Float) {
        let d = p - t
        return (abs(d), d > 0 ? 1 : (d < 0 ? -1 : 0))
    }
}
