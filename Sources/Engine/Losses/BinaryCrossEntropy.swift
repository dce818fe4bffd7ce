#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Binary cross-entropy with logits (multi-label: each channel an independent yes/no).
/// Shapes: logits N×C×spatial (or N×C); target same shape (0/1 or probabilities in [0, 1]);
/// mask N×spatial / N×1×spatial (broadcast over channels) or the logits' shape (per element).
///
///   loss(z, t) = −t·log σ(z) − (1 − t)·log(1 − σ(z)) = max(z, 0) − z·t + log(1 + e^−|z|)
///   dloss/dz   = σ(z) − t
/// The rewritten form never exponentiates a positive number, so it is finite for any z.
/// Mean over counted elements (counted pixels × C), as PyTorch's BCEWithLogitsLoss.
public struct BinaryCrossEntropy: Sendable {
    public static let kind = "binary_cross_entropy"

    public init() {}

    /// The mean loss; writes d(mean)/d(logits) into `gradient` (overwriting it).
    public func compute(logits: Tensor, target: Tensor, mask: Tensor? = nil, gradient: Tensor? = nil) throws -> Float {
        scaleToMean(try computeSum(logits: logits, target: target, mask: mask, gradient: gradient), gradient)
    }

    /// The loss sum and the counted elements; writes d(sum)/d(logits) into `gradient`.
    public func computeSum(logits: Tensor, target: Tensor, mask: Tensor? = nil, gradient: Tensor? = nil) throws -> LossSum {
        try elementwiseLossSum(Self.kind, prediction: logits, target: target, mask: mask, gradient: gradient) { z, t in
            let e = _expf(-abs(z)) // in (0, 1]
            let sig = z >= 0 ? 1 / (1 + e) : e / (1 + e)
            return (max(z, 0) - z * t + log1pf(e), sig - t)
        }
    }
}
