#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Adam with PyTorch's semantics (`torch.optim.Adam`, amsgrad off); `AdamW` is its variant
/// with decoupled weight decay. Per element, at step t = step + 1:
///   g  = gradScale·grad (+ weightDecay·p for Adam: L2 decay added to the gradient)
///   p *= 1 − lr·weightDecay                               (AdamW only: decoupled decay, first)
///   m  = β1·m + (1 − β1)·g;   v = β2·v + (1 − β2)·g²
///   p −= lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)        (bias correction as PyTorch's)
/// State: "adam.m", "adam.v" (AdamW: "adamw.m", "adamw.v", so a checkpoint of one is not
/// silently loaded into the other).
public class Adam: Optimizer, @unchecked Sendable {
    public let beta1: Float, beta2: Float, eps: Float
    /// Adam: L2 decay added to the gradient (PyTorch's Adam `weight_decay`); AdamW: decoupled.
    public let weightDecay: Float
    public let parameterCount: Int
    public var step = 0
    private let moments: AdamMoments

    public var kind: String { "adam" }

    public convenience init(parameterCount: Int, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                            weightDecay: Float = 0) throws {
        try self.init(kind: "adam", parameterCount: parameterCount, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
    }

    public convenience init(for store: ParameterStore, beta1: Float = 0.9, beta2: Float = 0.999,
                            eps: Float = 1e-8, weightDecay: Float = 0) throws {
        try self.init(parameterCount: store.count, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
    }

    /// `kind` names the optimizer in errors (the subclass's own `kind` is not callable yet).
    init(kind: String, parameterCount: Int, beta1: Float, beta2: Float, eps: Float, weightDecay: Float) throws {
        moments = try AdamMoments(kind, parameterCount, beta1, beta2, eps, weightDecay)
        self.parameterCount = parameterCount
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
    }

    public var stateTensors: [(name: String, data: UnsafeMutableBufferPointer<Float>)] { moments.named(kind) }

    public func update(_ store: ParameterStore, learningRate lr: Float, gradScale s: Float) throws {
        try checkStore(store)
        let d = decay(learningRate: lr)
        moments.step(store, t: step + 1, lr: lr, gradScale: s, l2: d.l2, shrink: d.shrink,
                     beta1: beta1, beta2: beta2, eps: eps)
        step += 1
    }

    /// The weight decay of one step: added to the gradient (`l2`), or a factor on the
    /// parameters before the update (`shrink`). Adam: L2 only.
    func decay(learningRate lr: Float) -> (l2: Float, shrink: Float) { (weightDecay, 1) }
}

/// AdamW: Adam with decoupled weight decay p −= lr·weightDecay·p before the Adam update
/// (default 0.01, as PyTorch's). See `Adam` for the update.
public final class AdamW: Adam, @unchecked Sendable {
    public override var kind: String { "adamw" }

    public init(parameterCount: Int, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0.01) throws {
        try super.init(kind: "adamw", parameterCount: parameterCount, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
    }

    public convenience init(for store: ParameterStore, beta1: Float = 0.9, beta2: Float = 0.999,
                            eps: Float = 1e-8, weightDecay: Float = 0.01) throws {
        try self.init(parameterCount: store.count, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
    }

    /// PyTorch: param.mul_(1 - lr * weight_decay), with the factor formed on the host in double.
    override func decay(learningRate lr: Float) -> (l2: Float, shrink: Float) {
        (0, Float(1 - Double(lr) * Double(weightDecay)))
    }
}

/// The two moment buffers and the shared one-pass kernel.
private struct AdamMoments {
    let m: FloatBuffer, v: FloatBuffer

    init(_ kind: String, _ n: Int, _ beta1: Float, _ beta2: Float, _ eps: Float, _ wd: Float) throws {
        try requireHyper(beta1 >= 0 && beta1 < 1, kind, "beta1 \(beta1) must be in [0, 1)")
        try requireHyper(beta2 >= 0 && beta2 < 1, kind, "beta2 \(beta2) must be in [0, 1)")
        try requireHyper(eps >= 0 && eps.isFinite, kind, "eps \(eps) must be ≥ 0")
        try requireHyper(wd >= 0 && wd.isFinite, kind, "weightDecay \(wd) must be ≥ 0")
        m = FloatBuffer(count: n)
        v = FloatBuffer(count: n)
    }

    func named(_ kind: String) -> [(name: String, data: UnsafeMutableBufferPointer<Float>)] {
        [("\(kind).m", m.buffer), ("\(kind).v", v.buffer)]
    }

    /// l2 = 0 and shrink = 1 leave values exactly unchanged, so one branch-free loop serves both.
    func step(_ store: ParameterStore, t: Int, lr: Float, gradScale s: Float, l2: Float, shrink: Float,
              beta1: Float, beta2: Float, eps: Float) {
        // Step scalars in double, as PyTorch computes them on the host.
        let bc1 = 1 - pow(Double(beta1), Double(t)), bc2 = 1 - pow(Double(beta2), Double(t))
        let stepSize = Float(Double(lr) / bc1)
        let invSqrtBc2 = Float(1 / bc2.squareRoot())
        let b1 = beta1, b2 = beta2, c1 = 1 - beta1, c2 = 1 - beta2
        let p = store.values.base, g = store.grads.base, m = m.base, v = v.base, n = store.count
        // Explicit 8-wide lanes: LLVM leaves the scalar form (sqrt + divide) unvectorized, and
        // vector square roots (`laneSqrt`) beat sqrtf lane by lane (docs/engine.md). The tail does
        // the same operations in the same order (sqrtps rounds as sqrtss), so every element
        // rounds identically.
        typealias F8 = SIMD8<Float>
        var i = 0
        while i + 8 <= n {
            let rp = UnsafeMutableRawPointer(p + i), rm = UnsafeMutableRawPointer(m + i)
            let rv = UnsafeMutableRawPointer(v + i), rg = UnsafeRawPointer(g + i)
            let pi = rp.loadUnaligned(as: F8.self) * shrink
            let gi = s * rg.loadUnaligned(as: F8.self) + l2 * pi
            let mi = b1 * rm.loadUnaligned(as: F8.self) + c1 * gi
            let vi = b2 * rv.loadUnaligned(as: F8.self) + c2 * (gi * gi)
            rm.storeBytes(of: mi, as: F8.self)
            rv.storeBytes(of: vi, as: F8.self)
            rp.storeBytes(of: pi - stepSize * (mi / (laneSqrt(vi) * invSqrtBc2 + eps)), as: F8.self)
            i += 8
        }
        while i < n {
            let pi = p[i] * shrink
            let gi = s * g[i] + l2 * pi
            let mi = b1 * m[i] + c1 * gi
            let vi = b2 * v[i] + c2 * (gi * gi)
            m[i] = mi; v[i] = vi
            p[i] = pi - stepSize * (mi / (vi.squareRoot() * invSqrtBc2 + eps))
            i += 1
        }
    }
}
